package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/store"
)

// cancelDelivery answers POST /api/deliveries/{id}/cancel: any delivery
// of a channel's, with its token, or any at all with the admin token. A
// queued delivery (or one waiting for a retry) dies at once; one being
// attempted is stopped. Either way the queue behind it goes on: how to
// get past an event the app keeps failing on. A retry by hand sends it
// again.
func (a *api) cancelDelivery(c echo.Context, p principal) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	d, err := a.delivery(ctx, id, p)
	if err != nil {
		return err
	}
	err = a.s.cfg.Deliveries.Cancel(context.WithoutCancel(ctx), id, p.String())
	switch {
	case errors.Is(err, delivery.ErrEnded):
		return echo.NewHTTPError(http.StatusConflict, err.Error()+"; nothing to cancel")
	case errors.Is(err, delivery.ErrHeld):
		return echo.NewHTTPError(http.StatusConflict, "delivery "+id+" is being answered by the app now (an auto-mode request); its answer is recorded when it comes: look again then")
	case errors.Is(err, delivery.ErrEnding):
		return echo.NewHTTPError(http.StatusConflict, "delivery "+id+" has just finished its attempt, whose outcome is being recorded; look again")
	case errors.Is(err, store.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "no delivery "+id)
	case err != nil:
		return fmt.Errorf("cancelling delivery %s: %w", id, err)
	}
	if d, err = a.s.cfg.Events.Delivery(ctx, id); err != nil {
		return err
	}
	a.s.cfg.Log.Info("delivery cancelled", "delivery_id", id, "event_id", d.EventID, "target", d.Target, "by", p.String())
	return c.JSON(http.StatusAccepted, RetryResult{Delivery: d})
}

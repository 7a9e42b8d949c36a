package sqlite

// The statements that run for every webhook and every delivery attempt,
// prepared once when the store opens (stmt.go). Others run unprepared.
const (
	sqlDedupGet = `SELECT event_id, at FROM dedup WHERE source = ? AND key = ?`
	sqlDedupPut = `INSERT OR REPLACE INTO dedup(source, key, event_id, at) VALUES(?,?,?,?)`
	// sqlLiveDeliveries says whether an event is still stored, and counts
	// its deliveries that are not dead.
	sqlLiveDeliveries = `SELECT (SELECT COUNT(*) FROM events WHERE id = ?1), (SELECT COUNT(*) FROM deliveries WHERE event_id = ?1 AND status != 'dead')`
	sqlEventSize      = `SELECT size FROM events WHERE id = ?`
	sqlInsertEvent    = `INSERT INTO events(id, source, channel, type, dedup_key, received_at, method, target, host, header, normalized, duplicate_of, edited_from, size)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	sqlInsertBody     = `INSERT INTO bodies(seq, body) VALUES(?, ?)`
	sqlInsertDelivery = `INSERT INTO deliveries(id, event_id, route, target, status, attempts, next_at, created_at, size)
		VALUES(?,?,?,?,?,?,?,?,?)`

	sqlDeliveryState   = `SELECT status, attempts FROM deliveries WHERE id = ?`
	sqlInsertAttempt   = `INSERT INTO attempts(delivery_id, n, at, duration, outcome, status, error, response) VALUES(?,?,?,?,?,?,?,?)`
	sqlFinishDelivery  = `UPDATE deliveries SET status = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?, started = 0, started_at = 0 WHERE id = ?`
	sqlRetryDelivery   = `UPDATE deliveries SET status = 'pending', next_at = ?, created_at = ?, retried_after = attempts, cancel_by = '', started = 0, started_at = 0 WHERE id = ?`
	sqlStartDelivery   = `UPDATE deliveries SET started = ?, started_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?`
	sqlUnstartDelivery = `UPDATE deliveries SET started = 0, started_at = 0 WHERE id = ? AND started = ?`
	sqlCancelDelivery  = `UPDATE deliveries SET cancel_by = ? WHERE id = ? AND status = 'pending' AND attempts = ?`
	sqlTargets         = `SELECT DISTINCT target FROM deliveries WHERE status = 'pending'`
	sqlPending         = `SELECT ` + deliveryCols + ` FROM deliveries WHERE target = ? AND status = 'pending' ORDER BY seq LIMIT ?`

	sqlEventByID         = `SELECT ` + eventCols + `, coalesce(b.body, x'') FROM events e LEFT JOIN bodies b ON b.seq = e.seq WHERE e.id = ?`
	sqlDeliveryByID      = `SELECT ` + deliveryCols + ` FROM deliveries WHERE id = ?`
	sqlDeliveriesOfEvent = `SELECT ` + deliveryCols + ` FROM deliveries WHERE event_id = ? ORDER BY seq`
	sqlAttempts          = `SELECT n, at, duration, outcome, status, error, response FROM attempts WHERE delivery_id = ? ORDER BY n`
)

// hotQueries are the statements prepared when the store opens.
func hotQueries() []string {
	return []string{
		sqlDedupGet, sqlDedupPut, sqlEventSize, sqlInsertEvent, sqlInsertBody, sqlInsertDelivery,
		sqlDeliveryState, sqlInsertAttempt, sqlFinishDelivery, sqlRetryDelivery, sqlStartDelivery, sqlTargets, sqlPending,
		sqlEventByID, sqlDeliveryByID, sqlDeliveriesOfEvent, sqlAttempts,
	}
}

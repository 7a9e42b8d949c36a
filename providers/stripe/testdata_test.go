package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/hookrelay/hookrelay/providers/httpfile"
)

// The secrets testdata is signed with; testdata/README names them too.
const (
	testSecret = "whsec_7Yq2pXKc9mTnB4sLwE8vR1hZ3dFgJ6uA"
	// oldSecret signs the first v1 entry of the rotation delivery: the
	// endpoint's previous secret, which the test source no longer has.
	oldSecret = "whsec_K3mP8nQ2rS5tV7wX9yZ1aB4cD6eFhJ0L"
)

// delivery is one testdata file: the body Stripe sends and how it is signed.
type delivery struct {
	file    string // under testdata/
	t       int64  // Stripe-Signature t=
	rotated bool   // v1 by oldSecret first, then by testSecret
	v0      bool   // also carry a v0 entry, which must be ignored
	body    string
}

// hexMAC is Stripe's documented v1 scheme written out with crypto/hmac,
// independently of the provider's code: HMAC-SHA256 keyed with the whole
// secret string over "<t>.<body>", hex.
func hexMAC(secret string, t int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10) + "." + string(body)))
	return hex.EncodeToString(m.Sum(nil))
}

// testHeader builds a Stripe-Signature value the way Stripe's libraries'
// generateTestHeaderString does: "t=<ts>,v1=<hex>".
func testHeader(secret string, t int64, body []byte) string {
	return fmt.Sprintf("t=%d,v1=%s", t, hexMAC(secret, t, body))
}

// File implements providertest.Fixture.
func (d delivery) File() string { return d.file }

// Render renders d as the bytes of its .http file.
func (d delivery) Render(testing.TB) []byte {
	body := []byte(d.body)
	sig := testHeader(testSecret, d.t, body)
	if d.rotated {
		sig = fmt.Sprintf("t=%d,v1=%s,v1=%s", d.t, hexMAC(oldSecret, d.t, body), hexMAC(testSecret, d.t, body))
	}
	if d.v0 {
		sum := sha256.Sum256(body)
		sig += ",v0=" + hex.EncodeToString(sum[:])
	}
	return httpfile.Format(&httpfile.Request{
		Method: "POST",
		Target: "/webhook/alice/stripe",
		Header: http.Header{
			"Host":             {"hooks.example.com"},
			"User-Agent":       {"Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
			"Accept":           {"*/*; q=0.5, application/xml"},
			"Cache-Control":    {"no-cache"},
			"Content-Type":     {"application/json; charset=utf-8"},
			"Stripe-Signature": {sig},
		},
		Body: body,
	})
}

var deliveries = []delivery{
	{file: "payment_intent.succeeded.http", t: 1719915603, body: `{
  "id": "evt_3PY1uJ2eZvKYlo2C1A4bYc9x",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1719915602,
  "data": {
    "object": {
      "id": "pi_3PY1uJ2eZvKYlo2C1QJ8fX0w",
      "object": "payment_intent",
      "amount": 2000,
      "amount_capturable": 0,
      "amount_details": {
        "tip": {}
      },
      "amount_received": 2000,
      "application": null,
      "application_fee_amount": null,
      "automatic_payment_methods": {
        "allow_redirects": "always",
        "enabled": true
      },
      "canceled_at": null,
      "cancellation_reason": null,
      "capture_method": "automatic_async",
      "confirmation_method": "automatic",
      "created": 1719915599,
      "currency": "usd",
      "customer": "cus_QOpTnXyZ7vKJ3a",
      "description": "Order #1042",
      "invoice": null,
      "last_payment_error": null,
      "latest_charge": "ch_3PY1uJ2eZvKYlo2C1xY0aB2c",
      "livemode": false,
      "metadata": {
        "order_id": "1042"
      },
      "next_action": null,
      "on_behalf_of": null,
      "payment_method": "pm_1PY1uI2eZvKYlo2CkQ9rT3sd",
      "payment_method_configuration_details": {
        "id": "pmc_1OQ6yB2eZvKYlo2CXj4bZ8Ab",
        "parent": null
      },
      "payment_method_options": {
        "card": {
          "installments": null,
          "mandate_options": null,
          "network": null,
          "request_three_d_secure": "automatic"
        }
      },
      "payment_method_types": [
        "card"
      ],
      "processing": null,
      "receipt_email": "jenny.rosen@example.com",
      "review": null,
      "setup_future_usage": null,
      "shipping": null,
      "source": null,
      "statement_descriptor": null,
      "statement_descriptor_suffix": null,
      "status": "succeeded",
      "transfer_data": null,
      "transfer_group": null
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_8Vd3xQbN1kLm2P",
    "idempotency_key": "5f1c2b6e-9a3d-4e7f-8b21-3c4d5e6f7a8b"
  },
  "type": "payment_intent.succeeded"
}`},
	{file: "checkout.session.completed.http", t: 1719916025, body: `{
  "id": "evt_1PY21p2eZvKYlo2CwR8nT4qz",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1719916024,
  "data": {
    "object": {
      "id": "cs_test_a1Kq9ZbXyR3mT7vP2nL5wE8uD4cF6gH0jS9aB3dQ7eR1tY5uI2oP4",
      "object": "checkout.session",
      "after_expiration": null,
      "allow_promotion_codes": false,
      "amount_subtotal": 4900,
      "amount_total": 4900,
      "automatic_tax": {
        "enabled": false,
        "liability": null,
        "status": null
      },
      "billing_address_collection": "auto",
      "cancel_url": "https://shop.example.com/cart",
      "client_reference_id": "user_2041",
      "consent": null,
      "consent_collection": null,
      "created": 1719915980,
      "currency": "usd",
      "custom_fields": [],
      "custom_text": {
        "after_submit": null,
        "shipping_address": null,
        "submit": null,
        "terms_of_service_acceptance": null
      },
      "customer": "cus_QOpTnXyZ7vKJ3a",
      "customer_creation": "if_required",
      "customer_details": {
        "address": {
          "city": "South San Francisco",
          "country": "US",
          "line1": "354 Oyster Point Blvd",
          "line2": null,
          "postal_code": "94080",
          "state": "CA"
        },
        "email": "jenny.rosen@example.com",
        "name": "Jenny Rosen",
        "phone": null,
        "tax_exempt": "none",
        "tax_ids": []
      },
      "customer_email": null,
      "expires_at": 1720002380,
      "invoice": null,
      "invoice_creation": {
        "enabled": false,
        "invoice_data": {
          "account_tax_ids": null,
          "custom_fields": null,
          "description": null,
          "footer": null,
          "issuer": null,
          "metadata": {},
          "rendering_options": null
        }
      },
      "livemode": false,
      "locale": null,
      "metadata": {
        "cart_id": "cart_88213"
      },
      "mode": "payment",
      "payment_intent": "pi_3PY21n2eZvKYlo2C0uV7bN2k",
      "payment_link": null,
      "payment_method_collection": "if_required",
      "payment_method_configuration_details": {
        "id": "pmc_1OQ6yB2eZvKYlo2CXj4bZ8Ab",
        "parent": null
      },
      "payment_method_options": {
        "card": {
          "request_three_d_secure": "automatic"
        }
      },
      "payment_method_types": [
        "card",
        "link"
      ],
      "payment_status": "paid",
      "phone_number_collection": {
        "enabled": false
      },
      "recovered_from": null,
      "saved_payment_method_options": null,
      "setup_intent": null,
      "shipping_address_collection": null,
      "shipping_cost": null,
      "shipping_details": null,
      "shipping_options": [],
      "status": "complete",
      "submit_type": "pay",
      "subscription": null,
      "success_url": "https://shop.example.com/thanks?session_id={CHECKOUT_SESSION_ID}",
      "total_details": {
        "amount_discount": 0,
        "amount_shipping": 0,
        "amount_tax": 0
      },
      "ui_mode": "hosted",
      "url": null
    }
  },
  "livemode": false,
  "pending_webhooks": 2,
  "request": {
    "id": null,
    "idempotency_key": null
  },
  "type": "checkout.session.completed"
}`},
	{file: "invoice.payment_failed.http", t: 1719919207, v0: true, body: `{
  "id": "evt_1PY2tA2eZvKYlo2CqS5xN8mJ",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1719919206,
  "data": {
    "object": {
      "id": "in_1PY2t82eZvKYlo2CcD3fG7hK",
      "object": "invoice",
      "account_country": "US",
      "account_name": "Acme Analytics, Inc.",
      "amount_due": 1500,
      "amount_paid": 0,
      "amount_remaining": 1500,
      "attempt_count": 1,
      "attempted": true,
      "auto_advance": true,
      "billing_reason": "subscription_cycle",
      "charge": "ch_3PY2t92eZvKYlo2C1pQ4rS6t",
      "collection_method": "charge_automatically",
      "created": 1719915605,
      "currency": "usd",
      "customer": "cus_QOpTnXyZ7vKJ3a",
      "customer_email": "jenny.rosen@example.com",
      "customer_name": "Jenny Rosen",
      "description": null,
      "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1032D82eZvKYlo2C/test_YWNjdF8xMDMyRDgyZVp2S1lsbzJDLF9RT3BUNXlIaDl4,1104460070",
      "invoice_pdf": "https://pay.stripe.com/invoice/acct_1032D82eZvKYlo2C/test_YWNjdF8xMDMyRDgyZVp2S1lsbzJDLF9RT3BUNXlIaDl4/pdf",
      "last_finalization_error": null,
      "lines": {
        "object": "list",
        "data": [
          {
            "id": "il_1PY2t82eZvKYlo2Cw8xY2zA4",
            "object": "line_item",
            "amount": 1500,
            "currency": "usd",
            "description": "1 × Pro plan (at $15.00 / month)",
            "period": {
              "end": 1722594005,
              "start": 1719915605
            },
            "plan": {
              "id": "price_1PXzQ22eZvKYlo2C9kL3mN5b",
              "object": "plan",
              "active": true,
              "amount": 1500,
              "currency": "usd",
              "interval": "month",
              "interval_count": 1,
              "product": "prod_QOnP7aBcD9eFgH"
            },
            "proration": false,
            "quantity": 1,
            "subscription": "sub_1PXzR52eZvKYlo2CjK8lM0nP",
            "type": "subscription"
          }
        ],
        "has_more": false,
        "total_count": 1,
        "url": "/v1/invoices/in_1PY2t82eZvKYlo2CcD3fG7hK/lines"
      },
      "livemode": false,
      "metadata": {},
      "next_payment_attempt": 1720178406,
      "number": "A7F3C2D1-0004",
      "paid": false,
      "payment_intent": "pi_3PY2t92eZvKYlo2C0aB1cD2e",
      "period_end": 1719915605,
      "period_start": 1717323605,
      "status": "open",
      "subscription": "sub_1PXzR52eZvKYlo2CjK8lM0nP",
      "subtotal": 1500,
      "total": 1500
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": null,
    "idempotency_key": null
  },
  "type": "invoice.payment_failed"
}`},
	{file: "customer.subscription.updated.http", t: 1719921010, body: `{
  "id": "evt_1PY3M92eZvKYlo2CaB7cD9eF",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1719921009,
  "data": {
    "object": {
      "id": "sub_1PXzR52eZvKYlo2CjK8lM0nP",
      "object": "subscription",
      "application": null,
      "billing_cycle_anchor": 1717323605,
      "cancel_at": 1722594005,
      "cancel_at_period_end": true,
      "canceled_at": 1719921009,
      "cancellation_details": {
        "comment": null,
        "feedback": "too_expensive",
        "reason": "cancellation_requested"
      },
      "collection_method": "charge_automatically",
      "created": 1717323605,
      "currency": "usd",
      "current_period_end": 1722594005,
      "current_period_start": 1719915605,
      "customer": "cus_QOpTnXyZ7vKJ3a",
      "default_payment_method": "pm_1PY1uI2eZvKYlo2CkQ9rT3sd",
      "items": {
        "object": "list",
        "data": [
          {
            "id": "si_QOnRk4LmN2pQ7r",
            "object": "subscription_item",
            "created": 1717323606,
            "metadata": {},
            "price": {
              "id": "price_1PXzQ22eZvKYlo2C9kL3mN5b",
              "object": "price",
              "active": true,
              "currency": "usd",
              "product": "prod_QOnP7aBcD9eFgH",
              "recurring": {
                "interval": "month",
                "interval_count": 1,
                "usage_type": "licensed"
              },
              "type": "recurring",
              "unit_amount": 1500
            },
            "quantity": 1,
            "subscription": "sub_1PXzR52eZvKYlo2CjK8lM0nP"
          }
        ],
        "has_more": false,
        "total_count": 1,
        "url": "/v1/subscription_items?subscription=sub_1PXzR52eZvKYlo2CjK8lM0nP"
      },
      "latest_invoice": "in_1PY2t82eZvKYlo2CcD3fG7hK",
      "livemode": false,
      "metadata": {},
      "start_date": 1717323605,
      "status": "active",
      "trial_end": null,
      "trial_start": null
    },
    "previous_attributes": {
      "cancel_at": null,
      "cancel_at_period_end": false,
      "canceled_at": null,
      "cancellation_details": {
        "feedback": null,
        "reason": null
      }
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_Zq4Wx9Yb2Cd6Ef",
    "idempotency_key": "c0b7a1e2-4d3f-4a6b-9c8d-7e6f5a4b3c2d"
  },
  "type": "customer.subscription.updated"
}`},
	{file: "charge.refunded-rotated.http", t: 1719923422, rotated: true, body: `{
  "id": "evt_3PY1uJ2eZvKYlo2C1Rf5Tg6H",
  "object": "event",
  "account": "acct_1PXyZa2eZvKYlo2C",
  "api_version": "2024-06-20",
  "created": 1719923421,
  "data": {
    "object": {
      "id": "ch_3PY1uJ2eZvKYlo2C1xY0aB2c",
      "object": "charge",
      "amount": 2000,
      "amount_captured": 2000,
      "amount_refunded": 2000,
      "balance_transaction": "txn_3PY1uJ2eZvKYlo2C1Kx2Lm3N",
      "billing_details": {
        "address": {
          "city": null,
          "country": "US",
          "line1": null,
          "line2": null,
          "postal_code": "94080",
          "state": null
        },
        "email": "jenny.rosen@example.com",
        "name": "Jenny Rosen",
        "phone": null
      },
      "captured": true,
      "created": 1719915600,
      "currency": "usd",
      "customer": "cus_QOpTnXyZ7vKJ3a",
      "description": "Order #1042",
      "disputed": false,
      "failure_code": null,
      "failure_message": null,
      "livemode": false,
      "metadata": {
        "order_id": "1042"
      },
      "outcome": {
        "network_status": "approved_by_network",
        "reason": null,
        "risk_level": "normal",
        "risk_score": 12,
        "seller_message": "Payment complete.",
        "type": "authorized"
      },
      "paid": true,
      "payment_intent": "pi_3PY1uJ2eZvKYlo2C1QJ8fX0w",
      "payment_method": "pm_1PY1uI2eZvKYlo2CkQ9rT3sd",
      "payment_method_details": {
        "card": {
          "brand": "visa",
          "country": "US",
          "exp_month": 8,
          "exp_year": 2026,
          "funding": "credit",
          "last4": "4242",
          "network": "visa"
        },
        "type": "card"
      },
      "receipt_url": "https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8xUFh5WmEyZVp2S1lsbzJDKN7ik7QGMgb1n0Rk",
      "refunded": true,
      "status": "succeeded"
    },
    "previous_attributes": {
      "amount_refunded": 0,
      "refunded": false
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_Hn3Jk5Lp7Qr9St",
    "idempotency_key": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
  },
  "type": "charge.refunded"
}`},
}

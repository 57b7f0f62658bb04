package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/mlrun/mlrun/internal/fernet"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

var _ registry.Webhooks = (*Store)(nil)

// webhookKey is the Fernet key of webhook secrets, as MLflow's:
// MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY, else one made for this process
// (secrets stored meanwhile cannot be read by another process or after a
// restart, as in MLflow; said once in the log).
var webhookKey = sync.OnceValues(func() (*fernet.Key, error) {
	if v := os.Getenv("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY"); v != "" {
		k, err := fernet.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: %w", err)
		}
		return k, nil
	}
	slog.Warn("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets stored now are encrypted with a key of this process only, and deliveries of a later process cannot sign with them")
	return fernet.NewKey(), nil
})

func (s *Store) requireWebhooks() error {
	if !s.webhooks {
		return store.Errorf(store.ErrUnsupported, "webhooks need MLflow 3's webhooks tables, and this database is at MLflow revision %s: upgrade it with 'mlrun db upgrade' (stop the servers and runs using it first)", s.revision)
	}
	return nil
}

// CreateWebhook implements registry.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, w registry.Webhook) (*registry.Webhook, error) {
	if err := s.requireWebhooks(); err != nil {
		return nil, err
	}
	if w.Status == "" {
		w.Status = registry.StatusActive
	}
	if err := registry.CheckWebhook(&w); err != nil {
		return nil, err
	}
	secret, err := sealSecret(w.Secret)
	if err != nil {
		return nil, err
	}
	w.ID, w.CreationTimestamp = newID(), nowMillis()
	w.LastUpdatedTimestamp = w.CreationTimestamp
	err = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (webhook_id, name, description, url, status, secret, creation_timestamp, last_updated_timestamp)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, w.ID, w.Name, nullIfEmpty(w.Description), w.URL, w.Status, secret, w.CreationTimestamp, w.LastUpdatedTimestamp); err != nil {
			return err
		}
		return insertWebhookEvents(ctx, tx, w.ID, w.Events)
	})
	if err != nil {
		return nil, wrap("create webhook", err)
	}
	w.Events = dedupEvents(w.Events)
	return &w, nil
}

func insertWebhookEvents(ctx context.Context, tx *sql.Tx, id string, events []registry.Event) error {
	for _, e := range dedupEvents(events) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (webhook_id, entity, action) VALUES (?, ?, ?)`, id, e.Entity, e.Action); err != nil {
			return err
		}
	}
	return nil
}

func dedupEvents(events []registry.Event) []registry.Event {
	var out []registry.Event
	for _, e := range events {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// sealSecret encrypts a secret for the secret column ("" stays NULL).
func sealSecret(secret string) (any, error) {
	if secret == "" {
		return nil, nil
	}
	k, err := webhookKey()
	if err != nil {
		return nil, err
	}
	return k.Encrypt([]byte(secret)), nil
}

const webhookCols = `webhook_id, name, description, url, status, secret, creation_timestamp, last_updated_timestamp`

// scanWebhooks reads webhook rows and their events; sealed maps each id
// to its stored (encrypted) secret.
func (s *Store) scanWebhooks(ctx context.Context, q querier, rows *sql.Rows) (hooks []*registry.Webhook, sealed map[string]string, err error) {
	sealed = map[string]string{}
	for rows.Next() {
		var w registry.Webhook
		var desc, secret sql.NullString
		var created, updated sql.NullInt64
		if err := rows.Scan(&w.ID, &w.Name, &desc, &w.URL, &w.Status, &secret, &created, &updated); err != nil {
			rows.Close()
			return nil, nil, err
		}
		w.Description, w.CreationTimestamp, w.LastUpdatedTimestamp = desc.String, created.Int64, updated.Int64
		if secret.String != "" {
			sealed[w.ID] = secret.String
		}
		hooks = append(hooks, &w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, w := range hooks {
		evRows, err := q.QueryContext(ctx, `SELECT entity, action FROM webhook_events WHERE webhook_id = ? ORDER BY entity, action`, w.ID)
		if err != nil {
			return nil, nil, err
		}
		for evRows.Next() {
			var e registry.Event
			if err := evRows.Scan(&e.Entity, &e.Action); err != nil {
				evRows.Close()
				return nil, nil, err
			}
			w.Events = append(w.Events, registry.Event{Entity: strings.ToLower(e.Entity), Action: strings.ToLower(e.Action)})
		}
		evRows.Close()
		if err := evRows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return hooks, sealed, nil
}

func (s *Store) getWebhook(ctx context.Context, q querier, id string) (*registry.Webhook, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE webhook_id = ? AND deleted_timestamp IS NULL`, id)
	if err != nil {
		return nil, err
	}
	hooks, _, err := s.scanWebhooks(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	if len(hooks) == 0 {
		return nil, registry.WebhookNotFound(id)
	}
	return hooks[0], nil
}

// GetWebhook implements registry.Webhooks.
func (s *Store) GetWebhook(ctx context.Context, id string) (*registry.Webhook, error) {
	if err := s.requireWebhooks(); err != nil {
		return nil, err
	}
	w, err := s.getWebhook(ctx, s.r, id)
	return w, wrap("get webhook", err)
}

// ListWebhooks implements registry.Webhooks: newest first, offset tokens
// as MLflow's.
func (s *Store) ListWebhooks(ctx context.Context, maxResults int, pageToken string) ([]*registry.Webhook, string, error) {
	if err := s.requireWebhooks(); err != nil {
		return nil, "", err
	}
	if maxResults == 0 {
		maxResults = 100
	}
	if maxResults < 0 || maxResults > 1000 {
		return nil, "", store.Invalidf("Invalid value %d for max_results: it must be between 1 and 1000.", maxResults)
	}
	tok, err := search.DecodeToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE deleted_timestamp IS NULL
		ORDER BY creation_timestamp DESC, webhook_id DESC LIMIT ? OFFSET ?`, maxResults+1, tok.Offset)
	if err != nil {
		return nil, "", wrap("list webhooks", err)
	}
	hooks, _, err := s.scanWebhooks(ctx, s.r, rows)
	if err != nil {
		return nil, "", wrap("list webhooks", err)
	}
	next := ""
	if len(hooks) > maxResults {
		hooks = hooks[:maxResults]
		next = search.EncodeToken(search.Token{Offset: tok.Offset + maxResults})
	}
	return hooks, next, nil
}

// UpdateWebhook implements registry.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, id string, u registry.WebhookUpdate) (*registry.Webhook, error) {
	if err := s.requireWebhooks(); err != nil {
		return nil, err
	}
	var out *registry.Webhook
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		w, err := s.getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, f := range []struct {
			to   *string
			from *string
		}{{&w.Name, u.Name}, {&w.Description, u.Description}, {&w.URL, u.URL}, {&w.Status, u.Status}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		if u.Events != nil {
			w.Events = u.Events
		}
		if err := registry.CheckWebhook(w); err != nil {
			return err
		}
		w.LastUpdatedTimestamp = nowMillis()
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET name = ?, description = ?, url = ?, status = ?, last_updated_timestamp = ? WHERE webhook_id = ?`,
			w.Name, nullIfEmpty(w.Description), w.URL, w.Status, w.LastUpdatedTimestamp, id); err != nil {
			return err
		}
		if u.Secret != nil {
			secret, err := sealSecret(*u.Secret)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret = ? WHERE webhook_id = ?`, secret, id); err != nil {
				return err
			}
		}
		if u.Events != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE webhook_id = ?`, id); err != nil {
				return err
			}
			if err := insertWebhookEvents(ctx, tx, id, w.Events); err != nil {
				return err
			}
			w.Events = dedupEvents(w.Events)
		}
		out = w
		return nil
	})
	return out, wrap("update webhook", err)
}

// DeleteWebhook implements registry.Webhooks: the webhook, its events and
// its secret are removed.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	if err := s.requireWebhooks(); err != nil {
		return err
	}
	return wrap("delete webhook", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.getWebhook(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE webhook_id = ?`, id)
		return err
	}))
}

// ActiveWebhooks implements registry.Webhooks. On a database without the
// webhooks tables there are none. A webhook whose secret does not decrypt
// with the key (stored with another) is left out, with an error in the
// log: it is never sent unsigned.
func (s *Store) ActiveWebhooks(ctx context.Context, event registry.Event) ([]*registry.Webhook, error) {
	if !s.webhooks {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks w WHERE w.deleted_timestamp IS NULL AND w.status = ?
		AND EXISTS (SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.webhook_id AND lower(e.entity) = ? AND lower(e.action) = ?)
		ORDER BY w.creation_timestamp, w.webhook_id`, registry.StatusActive, event.Entity, event.Action)
	if err != nil {
		return nil, wrap("active webhooks", err)
	}
	hooks, sealed, err := s.scanWebhooks(ctx, s.r, rows)
	if err != nil {
		return nil, wrap("active webhooks", err)
	}
	out := hooks[:0]
	for _, w := range hooks {
		if tok, ok := sealed[w.ID]; ok {
			k, err := webhookKey()
			if err != nil {
				return nil, err
			}
			b, err := k.Decrypt(tok)
			if err != nil {
				slog.Error("webhook not delivered: its secret does not decrypt with MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY (set the key it was stored with)", "webhook_id", w.ID, "event", event.String())
				continue
			}
			w.Secret = string(b)
		}
		out = append(out, w)
	}
	return out, nil
}

// WebhookSecret implements registry.Webhooks.
func (s *Store) WebhookSecret(ctx context.Context, id string) (string, error) {
	if err := s.requireWebhooks(); err != nil {
		return "", err
	}
	var secret sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT secret FROM webhooks WHERE webhook_id = ? AND deleted_timestamp IS NULL`, id).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return "", registry.WebhookNotFound(id)
	}
	if err != nil || secret.String == "" {
		return "", wrap("webhook secret", err)
	}
	k, err := webhookKey()
	if err != nil {
		return "", err
	}
	b, err := k.Decrypt(secret.String)
	if err != nil {
		return "", fmt.Errorf("webhook %s: its secret does not decrypt with MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY (set the key it was stored with): %w", id, err)
	}
	return string(b), nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Backup writes a consistent copy of the database to dest (a new file)
// with SQLite's online backup API, while other connections go on reading
// and writing: the copy is the database as of one moment, WAL included.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s exists; give a new file", dest)
	}
	out, err := sql.Open("sqlite3", "file:"+dest)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	defer out.Close()
	dc, err := out.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	defer dc.Close()
	sc, err := s.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer sc.Close()
	err = dc.Raw(func(d any) error {
		return sc.Raw(func(src any) error {
			dconn, ok1 := d.(*sqlite3.SQLiteConn)
			sconn, ok2 := src.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not SQLite connections")
			}
			bk, err := dconn.Backup("main", sconn, "main")
			if err != nil {
				return err
			}
			for {
				// A step copies some pages; a write between steps makes
				// SQLite restart the copy, so the result is one moment.
				done, err := bk.Step(256)
				if err != nil {
					bk.Close()
					return err
				}
				if done {
					return bk.Finish()
				}
				if ctx.Err() != nil {
					bk.Close()
					return ctx.Err()
				}
				time.Sleep(time.Millisecond)
			}
		})
	})
	if err != nil {
		os.Remove(dest)
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}

// checkpointAfter is how long the database must be quiet before its WAL
// is copied into the main file: then a plain copy of a quiet database
// file holds its data.
const checkpointAfter = 2 * time.Second

// scheduleCheckpoint (re)starts the quiet timer after a write.
func (s *Store) scheduleCheckpoint() {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	if s.closed {
		return
	}
	if s.ckTimer == nil {
		s.ckTimer = time.AfterFunc(checkpointAfter, s.checkpoint)
		return
	}
	s.ckTimer.Reset(checkpointAfter)
}

// checkpoint copies the WAL into the database without blocking readers
// or writers (PASSIVE).
func (s *Store) checkpoint() {
	s.ckMu.Lock()
	closed := s.closed
	s.ckMu.Unlock()
	if closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
}

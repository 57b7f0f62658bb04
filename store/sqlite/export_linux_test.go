package sqlite

import "golang.org/x/sys/unix"

// FlushReads is how many reads the store's FlushReader has made, -1
// when it has none.
func (s *Store) FlushReads() int64 {
	if s.flush == nil {
		return -1
	}
	return s.flush.reads.Load()
}

// FlushReadsHelp measures, as auto does, whether reads make flushes
// faster in dir's filesystem (not cached).
func FlushReadsHelp(dir string) (bool, error) {
	fd, buf, err := blockFile(dir, unix.O_DIRECT)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	on, _ := measureHelps(dir, fd, buf)
	return on, nil
}

// FlushReadsMeasured is what auto has found for dir's filesystem, if it
// has measured it; ForgetFlushReads forgets every measurement.
var FlushReadsMeasured = measured

func ForgetFlushReads() { helps.Clear() }

// FlushMeasurements is how many measurements auto has made.
func FlushMeasurements() int64 { return measurements.Load() }

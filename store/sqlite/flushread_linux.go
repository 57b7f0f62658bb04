package sqlite

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FlushReader reads one block from the disk now and then while writes
// come, bypassing the page cache, so that the disk has served a read in
// the last few milliseconds when a write transaction's COMMIT flushes.
// On the VMs mlrun is measured on, a flush with no read in the last
// ~10 ms takes 3-8 times as long as one with a read (see DESIGN.md, "A
// read before the flush"). The read is of an unnamed file in the
// database's folder (O_TMPFILE: nothing is left behind, and SQLite's file
// locks, which closing another descriptor of the database would drop,
// are not touched), made by a goroutine of its own so the writer never
// waits for it. The store has one; a writer of its own (the raw-insert
// benchmarks) may open another.
type FlushReader struct {
	fd    int
	buf   []byte // one aligned block
	kick  chan struct{}
	quit  chan struct{} // closed by Close (kick never is: a Kick may come after)
	done  chan struct{}
	reads atomic.Int64
	last  atomic.Int64 // when the last read was asked for, Unix ns
	once  sync.Once
	// Auto, on a filesystem not measured yet: measure is the folder to
	// measure in, off is set until a measurement finds that reads help
	// (Kick then only asks for the next measurement, at retryAt, Unix
	// ns, 0 for none); tries counts the measurements that said no,
	// unsure those spoilt by another process's reads.
	measure string
	off     atomic.Bool
	retryAt atomic.Int64
	tries   int
	unsure  int
}

// Measurements that find reads do not help are tried again, after
// measureAgain times their count, up to measureTries in all: under load
// the writer's own flushes, close together, are sometimes fast during a
// measurement without reads, and so make it say no (1 in 8 measurements
// of a server under create-run's load; 5 in a row, 1 in 30,000).
const (
	measureAgain = time.Second
	measureTries = 5
	// A measurement during which another process read from the disk is
	// tried again a second later, up to measureUnsure times.
	measureUnsure = 30
)

// measurements counts the measurements made, for tests.
var measurements atomic.Int64

// readEvery is how often, at most, a read is made while writes come:
// one read keeps flushes fast for about 10 ms.
const readEvery = 3 * time.Millisecond

// readBeforeFlushEnv chooses: auto (the default: on where a measurement
// at the first write on a filesystem finds it helps), on, or off.
const readBeforeFlushEnv = "MLRUN_SQLITE_READ_BEFORE_FLUSH"

// helps caches auto's measurement by filesystem (device number);
// measuring is one at a time (another process's reads would spoil it,
// and so would this one's).
var (
	helps     sync.Map
	measuring sync.Mutex
)

// OpenFlushReader returns the FlushReader for the database folder dir,
// or nil where it is off, not needed, or not possible (a filesystem
// without O_TMPFILE or direct reads: tmpfs, some network filesystems):
// MLRUN_SQLITE_READ_BEFORE_FLUSH decides, auto (the default) measuring
// once per filesystem, in the reader's goroutine at the first Kick, so
// that opening a database costs no time and a process that never writes
// measures nothing. Only a bad value of that variable is an error. Its
// methods do nothing on nil.
func OpenFlushReader(dir string) (*FlushReader, error) {
	mode := os.Getenv(readBeforeFlushEnv)
	switch mode {
	case "", "auto", "on":
	case "off":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s=%q: want auto, on or off", readBeforeFlushEnv, mode)
	}
	fd, buf, err := blockFile(dir, unix.O_DIRECT)
	if err != nil {
		return nil, nil
	}
	f := &FlushReader{fd: fd, buf: buf, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if mode != "on" {
		on, known := measured(dir)
		if known && !on {
			unix.Close(fd)
			return nil, nil
		}
		if !known {
			f.measure = dir
			f.off.Store(true)
			f.retryAt.Store(1) // at the first write
		}
	}
	go f.loop()
	return f, nil
}

// blockFile makes an unnamed file of one written block in dir (flags
// added to its open) and an aligned block-sized buffer.
func blockFile(dir string, flags int) (int, []byte, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC|flags, 0o600)
	if err != nil {
		return -1, nil, err
	}
	raw := make([]byte, 2*blockSize)
	off := blockSize - int(uintptr(unsafe.Pointer(&raw[0]))%blockSize)
	buf := raw[off : off+blockSize]
	// Written and flushed, so that a direct read goes to the disk (ext4
	// answers a read of an unwritten extent with zeros, no I/O).
	_, err = unix.Pwrite(fd, buf, 0)
	if err == nil {
		err = unix.Fsync(fd)
	}
	if err == nil {
		_, err = unix.Pread(fd, buf, 0)
	}
	if err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, buf, nil
}

const blockSize = 4096

// Kick asks for a read unless one was asked for in the last readEvery
// (while auto has not found reads to help: for the next measurement,
// when it is due): call it as each write transaction begins.
func (f *FlushReader) Kick() {
	if f == nil {
		return
	}
	now := time.Now().UnixNano()
	if f.off.Load() {
		if at := f.retryAt.Load(); at != 0 && now >= at && f.retryAt.CompareAndSwap(at, 0) {
			f.send()
		}
		return
	}
	if last := f.last.Load(); now-last < int64(readEvery) || !f.last.CompareAndSwap(last, now) {
		return
	}
	f.send()
}

func (f *FlushReader) send() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *FlushReader) loop() {
	defer close(f.done)
	for {
		select {
		case <-f.kick:
		case <-f.quit:
			return
		}
		if f.off.Load() {
			f.measureOnce()
			continue
		}
		if _, err := unix.Pread(f.fd, f.buf, 0); err == nil {
			f.reads.Add(1)
		}
	}
}

// measureOnce measures whether reads help (auto): on if they do, else
// off until the next try, or for good after measureTries.
func (f *FlushReader) measureOnce() {
	if f.measure == "" {
		return
	}
	on, sure := helpsOn(f.measure, f.fd, f.buf)
	if on {
		f.measure = ""
		f.off.Store(false)
		return
	}
	if !sure && f.unsure < measureUnsure {
		// Another process read from the disk meanwhile: again soon.
		f.unsure++
		f.retryAt.Store(time.Now().Add(time.Second).UnixNano())
		return
	}
	f.tries++
	if f.tries < measureTries {
		f.retryAt.Store(time.Now().Add(time.Duration(f.tries) * measureAgain).UnixNano())
		return
	}
	if dev, ok := deviceOf(f.measure); ok {
		helps.Store(dev, false)
	}
	f.measure = ""
}

// Close stops the reader, once the writer has stopped kicking it; again,
// it does nothing.
func (f *FlushReader) Close() {
	if f == nil {
		return
	}
	f.once.Do(func() {
		close(f.quit)
		<-f.done
		unix.Close(f.fd)
	})
}

// helpsOn reports whether reads make flushes faster on dir's
// filesystem (fd and buf are a direct block file there), from what is
// known of it or by measuring (measureHelps); only a yes is kept, since
// another process's reads can make a measurement say no.
func helpsOn(dir string, fd int, buf []byte) (on, sure bool) {
	measuring.Lock()
	defer measuring.Unlock()
	dev, ok := deviceOf(dir)
	if !ok {
		return false, true
	}
	if v, known := helps.Load(dev); known {
		return v.(bool), true
	}
	on, sure = measureHelps(dir, fd, buf)
	if on {
		helps.Store(dev, true)
	}
	return on, sure
}

// measured returns what helpsOn found for dir's filesystem, if it has.
func measured(dir string) (on, known bool) {
	dev, ok := deviceOf(dir)
	if !ok {
		return false, true
	}
	v, ok := helps.Load(dev)
	if !ok {
		return false, false
	}
	return v.(bool), true
}

// deviceOf is the device number of the filesystem holding dir.
func deviceOf(dir string) (uint64, bool) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Dev), true
}

// measureHelps measures whether reads make flushes faster: after 30 ms
// without reads, rounds of a one-block write and its flush 300 µs later;
// then the same with a read of fd before each flush. Yes when the median
// flush with reads takes under half the median without. About 50 ms.
// Not sure when the disk served reads (another process's) during the
// first part, where the kernel counts them (/sys/dev/block/…/stat).
func measureHelps(dir string, fd int, buf []byte) (yes, sure bool) {
	measurements.Add(1)
	wfd, wbuf, err := blockFile(dir, 0)
	if err != nil {
		return false, true
	}
	defer unix.Close(wfd)
	reads0, counted := diskReads(dir)
	time.Sleep(30 * time.Millisecond)
	const rounds = 10
	var flushes [2][]time.Duration // without reads, with
	for i := 0; i < 2*rounds; i++ {
		if _, err := unix.Pwrite(wfd, wbuf, 0); err != nil {
			return false, true
		}
		time.Sleep(300 * time.Microsecond)
		withRead := i / rounds
		if withRead == 1 {
			if i == rounds && counted {
				if reads, ok := diskReads(dir); !ok || reads != reads0 {
					return false, false
				}
			}
			unix.Pread(fd, buf, 0)
		}
		t := time.Now()
		if err := unix.Fsync(wfd); err != nil {
			return false, true
		}
		flushes[withRead] = append(flushes[withRead], time.Since(t))
	}
	for _, d := range flushes {
		slices.Sort(d)
	}
	return flushes[1][rounds/2] < flushes[0][rounds/2]/2, true
}

// diskReads is how many reads the disk holding dir has served, as the
// kernel counts them, if it does.
func diskReads(dir string) (int64, bool) {
	dev, ok := deviceOf(dir)
	if !ok {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/sys/dev/block/%d:%d/stat", unix.Major(dev), unix.Minor(dev)))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	return n, err == nil
}

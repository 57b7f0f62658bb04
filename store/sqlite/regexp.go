package sqlite

import (
	"database/sql"
	"regexp"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// driverName is mattn/go-sqlite3 with a regexp function on each
// connection, for SQLite's REGEXP operator (MLflow's RLIKE in trace
// searches).
const driverName = "sqlite3_mlrun"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.RegisterFunc("regexp", matchRegexp, true)
	}})
}

// regexps caches compiled patterns; it is emptied when it grows past
// maxRegexps (patterns come from users' filters).
var (
	regexpMu sync.Mutex
	regexps  = map[string]*regexp.Regexp{}
)

const maxRegexps = 256

// matchRegexp is regexp(pattern, value): whether value (text, or NULL)
// matches pattern anywhere.
func matchRegexp(pattern string, value any) (bool, error) {
	var s string
	switch v := value.(type) {
	case nil:
		return false, nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return false, nil
	}
	regexpMu.Lock()
	re, ok := regexps[pattern]
	regexpMu.Unlock()
	if !ok {
		var err error
		if re, err = regexp.Compile(pattern); err != nil {
			return false, err
		}
		regexpMu.Lock()
		if len(regexps) >= maxRegexps {
			clear(regexps)
		}
		regexps[pattern] = re
		regexpMu.Unlock()
	}
	return re.MatchString(s), nil
}

package server

// RouteRule is a route's entry in authRules, for tests.
type RouteRule struct {
	Key    string // as Routes names it
	Need   string // authenticated, read, update, delete, manage, admin, self; "" when the rule filters
	Filter bool
	Found  bool
}

// RuleOf returns the rule of a route key, as a request for UI action
// "delete" would see it.
func RuleOf(key string) RouteRule {
	rl, ok := authRules[key]
	out := RouteRule{Key: key, Found: ok, Filter: rl.filter != nil}
	n := rl.need
	if rl.dyn != nil {
		n = needDelete
	}
	if !out.Filter {
		out.Need = map[need]string{needAuthenticated: "authenticated", needRead: "read", needUpdate: "update", needDelete: "delete", needManage: "manage", needAdmin: "admin", needSelf: "self"}[n]
	}
	return out
}

package postgres

// InIDs is the dialect's InIDs, for the package's external tests.
func InIDs(ids []any) (string, []any) { return dialect{}.InIDs(ids) }

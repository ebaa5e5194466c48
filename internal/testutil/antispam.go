package testutil

import (
	"database/sql"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the database/sql driver of the MariaDB servers tests start
)

// AwaitAntispam waits up to 30 s until the shared antispam index has followed the log to size.
func AwaitAntispam(t testing.TB, dsn string, size uint64) {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var next uint64
		if err := db.QueryRow("SELECT nextIdx FROM AntispamFollowCoord WHERE id = 0").Scan(&next); err != nil {
			t.Fatal(err)
		}
		if next >= size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("antispam index followed %d entries in 30 s, want %d", next, size)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

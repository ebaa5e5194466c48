package logserver

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// requireAll reports whether missing system tools must fail tests instead of skipping them.
func requireAll() bool {
	return os.Getenv("CI") != "" || os.Getenv("COSIGN_LIKE_REQUIRE_ALL") != ""
}

// startMariaDB runs Debian's mariadbd as a child process with a fresh data directory on a free
// loopback port, and returns the storage address of a new empty database.
func startMariaDB(t *testing.T) string {
	t.Helper()
	install, err1 := exec.LookPath("mariadb-install-db")
	server, err2 := exec.LookPath("mariadbd")
	if err2 != nil {
		server, err2 = exec.LookPath("/usr/sbin/mariadbd")
	}
	if err1 != nil || err2 != nil {
		if requireAll() {
			t.Fatalf("mariadb-install-db or mariadbd not found (install mariadb-server): %v %v", err1, err2)
		}
		t.Skip("MariaDB not installed (mariadb-server); set CI or COSIGN_LIKE_REQUIRE_ALL to make this a failure")
	}
	dir := testutil.StorageDir(t)
	data := filepath.Join(dir, "data")
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srvArgs := []string{"--no-defaults", "--datadir=" + data, "--socket=" + filepath.Join(dir, "mysqld.sock"),
		"--port=" + fmt.Sprint(port), "--bind-address=127.0.0.1", "--skip-grant-tables",
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--innodb-buffer-pool-size=32M", "--log-error=" + filepath.Join(dir, "error.log")}
	if os.Geteuid() == 0 {
		srvArgs = append(srvArgs, "--user=root")
	}
	cmd := exec.Command(server, srvArgs...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mariadbd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	root := fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port)
	db, err := sql.Open("mysql", root)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err = db.Ping(); err == nil {
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("mariadbd exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not accept connections: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := db.Exec("CREATE DATABASE tlog"); err != nil {
		t.Fatal(err)
	}
	// The v1 tree's storage is derived: the same server, database tlog_v1.
	if _, err := db.Exec("CREATE DATABASE tlog_v1"); err != nil {
		t.Fatal(err)
	}
	return "mysql://" + root + "tlog"
}

func TestMariaDBStorage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server; skipped with -short")
	}
	storage := startMariaDB(t)
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tl := startTestLog(t, dir, func(c *Options) { c.Storage = storage })
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	first := s.request(t, []byte("first"))
	tle, err := tl.client.Submit(ctx, first)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, nil); err != nil {
		t.Fatal(err)
	}
	appendN(t, tl, s, "more", 300)
	// The v1 tree lives in the derived database tlog_v1.
	v1 := v1FixtureOf(t, tl)
	v1entry := v1.upload(t, s.hashedRekord(t, []byte("v1 on MariaDB")))
	state := t.TempDir()
	cp, err := logclient.CheckConsistency(ctx, tl.url, tl.key, state)
	if err != nil || cp.Size != 301 {
		t.Fatalf("checkpoint: %v (size %d)", err, cpSize(cp))
	}
	// Partial tiles and bundles are served at their exact width.
	for _, path := range []string{"tile/0/001.p/45", "tile/entries/001.p/45", "tile/0/000"} {
		b, err := getRaw(ctx, tl.url+"/api/v2/"+path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if path == "tile/0/001.p/45" && len(b) != 45*32 {
			t.Fatalf("%s holds %d bytes", path, len(b))
		}
	}
	if err := tl.stop(); err != nil {
		t.Fatal(err)
	}
	// A restarted server on the same database sees the same log, and recognises resubmissions.
	tl2 := startTestLog(t, dir, func(c *Options) { c.Storage = storage })
	again, err := tl2.client.Submit(ctx, first)
	if err != nil || again.LogIndex != tle.LogIndex {
		t.Fatalf("resubmission after restart: %v index %d want %d", err, again.GetLogIndex(), tle.LogIndex)
	}
	appendN(t, tl2, s, "after restart", 5)
	if got, err := v1FixtureOf(t, tl2).v1.GetByUUID(ctx, v1entry.UUID); err != nil || got.Entry.IntegratedTime != v1entry.Entry.IntegratedTime {
		t.Fatalf("v1 entry after restart: %v, %v", got, err)
	}
	cp2, err := logclient.CheckConsistency(ctx, tl2.url, tl2.key, state)
	if err != nil || cp2.Size != 306 {
		t.Fatalf("after restart: %v (size %d)", err, cpSize(cp2))
	}
	for i := uint64(0); i < cp2.Size; i += 61 {
		e, err := tl2.client.Entry(ctx, i, cp2)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if _, err := tlog.VerifyEntry(e, []tlog.LogKey{tl2.key}, nil); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	// fsck over the database, once the storage has stored its checkpoint at the final size.
	if err := tl2.stop(); err != nil {
		t.Fatal(err)
	}
	res, err := Fsck(ctx, dir, storage)
	if err != nil || res.Checkpoint.Size != cp2.Size {
		t.Fatalf("fsck: %v (%+v)", err, res)
	}
}

package testutil

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The MySQL driver the storage uses; imported here for the root connection.
	_ "github.com/go-sql-driver/mysql"
)

// MariaDB is Debian's mariadbd run as a child process with a fresh data directory on a free
// loopback port, no passwords. Stop and Start take it away and bring it back on the same port
// and data, for fault tests.
type MariaDB struct {
	// Addr is 127.0.0.1:<port>.
	Addr string

	server, dir string
	tb          testing.TB
	proc        childProcess
}

// StartMariaDB starts mariadbd and stops it when the test ends. Without mariadb-server the test
// is skipped, or fails when RequireAll; in -short mode it is skipped.
func StartMariaDB(tb testing.TB) *MariaDB {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: not starting a MariaDB server")
	}
	install, err1 := exec.LookPath("mariadb-install-db")
	server, err2 := exec.LookPath("mariadbd")
	if err2 != nil {
		server, err2 = exec.LookPath("/usr/sbin/mariadbd")
	}
	if err1 != nil || err2 != nil {
		if RequireAll() {
			tb.Fatalf("mariadb-install-db or mariadbd not found (install mariadb-server): %v %v", err1, err2)
		}
		tb.Skip("MariaDB not installed (mariadb-server); set CI or COSIGN_LIKE_REQUIRE_ALL to make this a failure")
	}
	dir := StorageDir(tb)
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"), "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		tb.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m := &MariaDB{Addr: FreeAddr(tb), server: server, dir: dir, tb: tb}
	if err := m.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Stop)
	return m
}

// Start starts the server on its port and data (again, after Stop) and waits until it answers.
func (m *MariaDB) Start() error {
	if m.proc.running() {
		return nil
	}
	port := m.Addr[strings.LastIndexByte(m.Addr, ':')+1:]
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(m.dir, "data"), "--socket=" + filepath.Join(m.dir, "mysqld.sock"),
		"--port=" + port, "--bind-address=127.0.0.1", "--skip-grant-tables", "--max-connections=1000",
		"--pid-file=" + filepath.Join(m.dir, "mysqld.pid"), "--innodb-buffer-pool-size=64M", "--log-error=" + filepath.Join(m.dir, "error.log")}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(m.server, args...)
	if err := m.proc.start(cmd); err != nil {
		return fmt.Errorf("starting mariadbd: %w", err)
	}
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	return m.proc.awaitReady("mariadbd", filepath.Join(m.dir, "error.log"), 60*time.Second, 200*time.Millisecond, db.Ping)
}

// Stop stops the server (SIGTERM, SIGKILL after 30 s); its data stays for Start.
func (m *MariaDB) Stop() { m.proc.stop(30 * time.Second) }

// Kill SIGKILLs the server; its data stays for Start.
func (m *MariaDB) Kill() { m.proc.kill() }

// DSN is the go-sql-driver address of database db as root.
func (m *MariaDB) DSN(db string) string {
	return fmt.Sprintf("root@tcp(%s)/%s", m.Addr, db)
}

// CreateDatabase creates an empty database and returns its DSN.
func (m *MariaDB) CreateDatabase(tb testing.TB, name string) string {
	tb.Helper()
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("creating database %s: %v", name, err)
	}
	return m.DSN(name)
}

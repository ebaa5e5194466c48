package logserver

import (
	"path"

	"github.com/go-sql-driver/mysql"

	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// v1AWSSpec is the storage of the Rekor v1 tree beside the aws:// storage spec: the database
// <database>_v1 on the same server (create it first) and the key prefix <prefix>/v1 in the
// same bucket.
func v1AWSSpec(spec string) (string, error) {
	s, err := storage.ParseAWS(spec)
	if err != nil {
		return "", err
	}
	mc, _ := mysql.ParseDSN(s.DSN)
	mc.DBName += "_v1"
	s.DSN, s.Prefix = mc.FormatDSN(), path.Join(s.Prefix, "v1")
	return s.String(), nil
}

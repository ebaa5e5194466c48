//go:build !containers_image_openpgp

package interop

import "testing"

// TestContainersImage stands in for the containers/image tests in a build without their tag:
// containers/image links gpgme (a C library) unless it is built with containers_image_openpgp.
// It skips, and fails where every peer is required (CI).
func TestContainersImage(t *testing.T) {
	const msg = "the containers/image tests are built only with -tags containers_image_openpgp,exclude_graphdriver_btrfs"
	if requireAll() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

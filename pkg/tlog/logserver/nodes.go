package logserver

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
)

// treeNodes answers Merkle node hashes of one tree size from its tiles, remembering every tile
// read and every node computed inside a tile, so that many proofs in the same tree are cheap.
// It is not safe for concurrent use.
type treeNodes struct {
	size  uint64
	read  client.TileFetcherFunc
	tiles map[[2]uint64][][]byte
	nodes map[compact.NodeID][]byte
}

func newTreeNodes(size uint64, read client.TileFetcherFunc) *treeNodes {
	return &treeNodes{size: size, read: read, tiles: map[[2]uint64][][]byte{}, nodes: map[compact.NodeID][]byte{}}
}

// node returns the hash of a non-ephemeral node (a perfect subtree inside the tree).
func (t *treeNodes) node(ctx context.Context, id compact.NodeID) ([]byte, error) {
	if h, ok := t.nodes[id]; ok {
		return h, nil
	}
	var h []byte
	if id.Level%layout.TileHeight == 0 {
		tileLevel, tileIndex, _, nodeIndex := layout.NodeCoordsToTileAddress(uint64(id.Level), id.Index)
		k := [2]uint64{tileLevel, tileIndex}
		nodes, ok := t.tiles[k]
		if !ok {
			raw, err := t.read(ctx, tileLevel, tileIndex, layout.PartialTileSize(tileLevel, tileIndex, t.size))
			if err != nil {
				return nil, fmt.Errorf("reading tile %d/%d: %w", tileLevel, tileIndex, err)
			}
			var tile api.HashTile
			if err := tile.UnmarshalText(raw); err != nil {
				return nil, fmt.Errorf("parsing tile %d/%d: %w", tileLevel, tileIndex, err)
			}
			nodes = tile.Nodes
			t.tiles[k] = nodes
		}
		if nodeIndex >= uint64(len(nodes)) {
			return nil, fmt.Errorf("tile %d/%d has %d nodes, node %d needed", tileLevel, tileIndex, len(nodes), nodeIndex)
		}
		h = nodes[nodeIndex]
	} else {
		l, err := t.node(ctx, compact.NewNodeID(id.Level-1, id.Index*2))
		if err != nil {
			return nil, err
		}
		r, err := t.node(ctx, compact.NewNodeID(id.Level-1, id.Index*2+1))
		if err != nil {
			return nil, err
		}
		h = rfc6962.DefaultHasher.HashChildren(l, r)
	}
	t.nodes[id] = h
	return h, nil
}

// inclusion computes the inclusion proof of leaf idx.
func (t *treeNodes) inclusion(ctx context.Context, idx uint64) ([][]byte, error) {
	ns, err := proof.Inclusion(idx, t.size)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w", idx, t.size, err)
	}
	hashes := make([][]byte, 0, len(ns.IDs))
	for _, id := range ns.IDs {
		h, err := t.node(ctx, id)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return ns.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Witness keeps copies of the log's signed checkpoints outside the
// database, where someone who can rewrite the database cannot reach. Each
// checkpoint it holds pins the log's first Size entries: a later database
// that is not an extension of it was truncated or rewritten, whoever holds
// the signing key.
type Witness interface {
	// String names the copy for reports.
	String() string
	// Publish stores a signed checkpoint note of the given size. Storing
	// the same note again is a no-op; a different note for a size already
	// held is a Conflict (the log forked).
	Publish(ctx context.Context, size int64, msg []byte) error
	// Latest returns the largest checkpoint note held, NotFound if none.
	Latest(ctx context.Context) ([]byte, error)
}

// WitnessHistory is a Witness that keeps every checkpoint, not only the
// latest, so that Verify can narrow a rewrite down to the checkpoints
// between which it happened.
type WitnessHistory interface {
	Witness
	// Sizes lists the sizes of the checkpoints held, in increasing order.
	Sizes(ctx context.Context) ([]int64, error)
	// Read returns the checkpoint note of that size.
	Read(ctx context.Context, size int64) ([]byte, error)
}

// DirWitness keeps checkpoints as files in a directory, one file per
// checkpoint named by its tree size (20 digits, so names sort as sizes),
// in a subdirectory per million entries so no directory grows without
// bound. Files are written whole (a temporary file, fsynced, then linked
// to its name, which fails if the name exists) and never replaced, and the
// directories are fsynced, so a crash leaves either no checkpoint or a
// complete one. Put it on another machine, a write-once mount or a backup
// that the database's administrators cannot change.
type DirWitness struct {
	dir string
}

// NewDirWitness returns the copy kept in dir, creating dir if needed.
func NewDirWitness(dir string) (*DirWitness, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "audit checkpoint directory %s", dir)
	}
	return &DirWitness{dir: dir}, nil
}

func (w *DirWitness) String() string { return "dir:" + w.dir }

const shardSize = 1_000_000

func (w *DirWitness) path(size int64) string {
	return filepath.Join(w.dir, fmt.Sprintf("%08d", size/shardSize), fmt.Sprintf("%020d", size))
}

// Publish writes the checkpoint file for size unless it is there already.
func (w *DirWitness) Publish(ctx context.Context, size int64, msg []byte) error {
	final := w.path(size)
	if old, err := os.ReadFile(final); err == nil {
		if sameNote(old, msg) {
			return nil
		}
		return errs.E(errs.Conflict, "%s already holds another checkpoint of size %d: the log forked", w, size)
	}
	shard := filepath.Dir(final)
	if err := os.MkdirAll(shard, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(shard, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(msg); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A link, unlike a rename, never replaces a file already there: the
	// copy stays append-only even with two servers publishing at once.
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return w.Publish(ctx, size, msg)
		}
		return err
	}
	if err := syncDir(shard); err != nil {
		return err
	}
	return syncDir(w.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Sizes lists the checkpoint files in increasing size.
func (w *DirWitness) Sizes(ctx context.Context) ([]int64, error) {
	shards, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, s := range shards {
		if !s.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(w.dir, s.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if n, err := strconv.ParseInt(f.Name(), 10, 64); err == nil && len(f.Name()) == 20 {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Read returns the checkpoint of size.
func (w *DirWitness) Read(ctx context.Context, size int64) ([]byte, error) {
	b, err := os.ReadFile(w.path(size))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errs.E(errs.NotFound, "%s has no checkpoint of size %d", w, size)
	}
	return b, err
}

// Latest returns the largest checkpoint held.
func (w *DirWitness) Latest(ctx context.Context) ([]byte, error) {
	sizes, err := w.Sizes(ctx)
	if err != nil {
		return nil, err
	}
	if len(sizes) == 0 {
		return nil, errs.E(errs.NotFound, "%s holds no checkpoint", w)
	}
	return w.Read(ctx, sizes[len(sizes)-1])
}

// NATSWitness publishes checkpoints to a NATS JetStream stream that refuses
// deletes and purges, one subject, the size as message ID (a retry within
// the duplicate window is stored once). Only the latest is read back.
type NATSWitness struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  string
	subject string
}

// NewNATSWitness connects to url and makes sure the stream exists.
func NewNATSWitness(ctx context.Context, url, stream, subject string) (*NATSWitness, error) {
	nc, err := nats.Connect(url, nats.Name("dancu-audit"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "nats %s", url)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subject},
		Duplicates: 10 * time.Minute, DenyDelete: true, DenyPurge: true}); err != nil {
		nc.Close()
		return nil, errs.Wrap(errs.Unavailable, err, "nats stream %s", stream)
	}
	return &NATSWitness{nc: nc, js: js, stream: stream, subject: subject}, nil
}

func (w *NATSWitness) String() string { return "nats:" + w.stream + "/" + w.subject }

// Close ends the connection.
func (w *NATSWitness) Close() { w.nc.Close() }

// Publish sends the note.
func (w *NATSWitness) Publish(ctx context.Context, size int64, msg []byte) error {
	if _, err := w.js.Publish(ctx, w.subject, msg, jetstream.WithMsgID(fmt.Sprintf("audit-checkpoint-%d", size))); err != nil {
		return errs.Wrap(errs.Unavailable, err, "publish the audit checkpoint to %s", w)
	}
	return nil
}

// Latest reads the last message of the subject.
func (w *NATSWitness) Latest(ctx context.Context) ([]byte, error) {
	s, err := w.js.Stream(ctx, w.stream)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "%s", w)
	}
	m, err := s.GetLastMsgForSubject(ctx, w.subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, errs.E(errs.NotFound, "%s holds no checkpoint", w)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "%s", w)
	}
	return bytes.Clone(m.Data), nil
}

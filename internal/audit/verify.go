package audit

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Problem is one thing Verify found wrong. Index is the first entry of the
// log it concerns (from 0), Last the last one when it is a range (a rewrite
// is known only between two checkpoints); -1 when no entry is concerned.
type Problem struct {
	Index   int64  `json:"index"`
	Last    int64  `json:"last,omitempty"`
	EventID string `json:"event_id,omitempty"`
	Kind    string `json:"kind" enum:"modified,deleted,reordered,inserted,truncated,rewritten,unsigned,checkpoint,key,unpinned,unchained"`
	Detail  string `json:"detail"`
}

func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Index >= 0 && p.Last > p.Index:
		fmt.Fprintf(&b, "index %d-%d: ", p.Index, p.Last)
	case p.Index >= 0:
		fmt.Fprintf(&b, "index %d: ", p.Index)
	}
	b.WriteString(p.Kind)
	if p.EventID != "" {
		fmt.Fprintf(&b, " (event %s)", p.EventID)
	}
	b.WriteString(": " + p.Detail)
	return b.String()
}

// OutsideStatus is what one outside copy held when Verify read it.
type OutsideStatus struct {
	Name string `json:"name"`
	Size int64  `json:"size" doc:"Entries pinned by its latest checkpoint"`
}

// Report is the outcome of Verify.
type Report struct {
	Entries     int64           `json:"entries"`
	Checkpoints int             `json:"checkpoints"`
	Signed      int64           `json:"signed" doc:"Entries covered by the last valid signed checkpoint"`
	Outside     []OutsideStatus `json:"outside"`
	Unchained   int             `json:"unchained" doc:"Events not sealed yet"`
	Problems    []Problem       `json:"problems"`
}

// FirstBad is the first entry of the log a problem concerns, -1 if none.
func (r Report) FirstBad() int64 {
	first := int64(-1)
	for _, p := range r.Problems {
		if p.Index >= 0 && (first < 0 || p.Index < first) {
			first = p.Index
		}
	}
	return first
}

// VerifyOptions say what Verify holds the database against.
type VerifyOptions struct {
	// Grace is how long an event may wait to be sealed, and a signed
	// checkpoint to be copied to the witnesses, before it is a problem.
	Grace time.Duration
	// Witnesses are the outside copies of the checkpoints.
	Witnesses []Witness
	// VerifierKeys, when given, are the only keys trusted to sign
	// checkpoints (pinned from outside, e.g. as published). Otherwise the
	// database's note key is trusted if it opens with the data key.
	VerifierKeys []string
}

// Verify checks the whole log in one consistent snapshot. It recomputes
// every entry's leaf hash from its event and compares it with the stored
// tree: a changed event, a deleted one, two swapped or one slipped in are
// each named at their index. It recomputes the tree from its leaves and
// holds it against every signed checkpoint in the database (a tree rewritten
// to fit changed events contradicts them; entries past the last one were
// added around the sealer; a checkpoint past the end means the tail was
// cut) and, by consistency proof, against the latest checkpoint each
// witness holds outside: that catches a truncation together with its
// checkpoints and a rewrite re-signed by someone holding the signing key.
// Verify never creates a key.
func (c *Chain) Verify(ctx context.Context, opt VerifyOptions) (Report, error) {
	r := Report{Problems: []Problem{}}
	txo := &sql.TxOptions{ReadOnly: true}
	if c.db.Dialect == sqldb.Postgres {
		txo.Isolation = sql.LevelRepeatableRead
	}
	tx, err := c.db.BeginTx(ctx, txo)
	if err != nil {
		return r, fmt.Errorf("verify: %w", err)
	}
	defer tx.Rollback()
	s, err := readSnapshot(ctx, tx)
	if err != nil {
		return r, err
	}
	v := verifier{c: c, s: s, r: &r, now: c.now().UTC(), opt: opt}
	v.checkLeaves()
	v.buildTree()
	if err := v.trustKeys(ctx, tx); err != nil {
		return r, err
	}
	v.checkCheckpoints()
	for _, w := range opt.Witnesses {
		v.checkWitness(ctx, w)
	}
	problems, err := c.verifySubjects(ctx, tx, v.groups())
	if err != nil {
		return r, err
	}
	r.Problems = append(r.Problems, problems...)
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event e WHERE NOT EXISTS (SELECT 1 FROM audit_leaf l WHERE l.event_id = e.id)`).
		Scan(&r.Unchained); err != nil {
		return r, err
	}
	var late int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event e WHERE e.at < $1 AND NOT EXISTS (SELECT 1 FROM audit_leaf l WHERE l.event_id = e.id)`,
		v.now.Add(-opt.Grace)).Scan(&late); err != nil {
		return r, err
	}
	if late > 0 {
		r.Problems = append(r.Problems, Problem{Index: -1, Kind: "unchained", Detail: fmt.Sprintf("%d events older than %s are not sealed: the sealer is not running, or they were inserted around it", late, opt.Grace)})
	}
	slices.SortStableFunc(r.Problems, func(a, b Problem) int {
		if (a.Index < 0) != (b.Index < 0) {
			return cmp.Compare(b.Index, a.Index) // positions first
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return r, nil
}

type leafRow struct {
	idx     int64
	eventID string
	event   *Event
}

// snapshot is everything Verify reads from the database.
type snapshot struct {
	leaves []leafRow
	stored map[int64]tlog.Hash // audit_tree_hash as found
	cps    []SignedCheckpoint
}

func readSnapshot(ctx context.Context, tx *sql.Tx) (*snapshot, error) {
	s := &snapshot{stored: map[int64]tlog.Hash{}}
	rows, err := tx.QueryContext(ctx, `SELECT l.idx, l.event_id, e.id, e.at, e.actor_id, e.actor_kind, e.actor_name, e.action,
		e.subject_pid, e.purpose, e.detail, e.source FROM audit_leaf l LEFT JOIN access_event e ON e.id = l.event_id ORDER BY l.idx`)
	if err != nil {
		return nil, fmt.Errorf("verify: read the log: %w", err)
	}
	for rows.Next() {
		var l leafRow
		var id, actorID, kind, name, action, subject, purpose, detail, source sql.NullString
		var at sql.NullTime
		if err := rows.Scan(&l.idx, &l.eventID, &id, &at, &actorID, &kind, &name, &action, &subject, &purpose, &detail, &source); err != nil {
			rows.Close()
			return nil, err
		}
		if id.Valid {
			l.event = &Event{ID: id.String, At: at.Time.UTC(), ActorID: actorID.String, Kind: kind.String, Name: name.String, Action: action.String,
				Subject: subject.String, Purpose: purpose.String, Detail: detail.String, Source: source.String}
		}
		s.leaves = append(s.leaves, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT idx, hash FROM audit_tree_hash`)
	if err != nil {
		return nil, fmt.Errorf("verify: read the tree: %w", err)
	}
	for rows.Next() {
		var x int64
		var b []byte
		if err := rows.Scan(&x, &b); err != nil {
			rows.Close()
			return nil, err
		}
		var h tlog.Hash
		copy(h[:], b) // a hash of the wrong length simply fails to match
		s.stored[x] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.cps, err = checkpointsAfter(ctx, tx, -1, 0, false)
	return s, err
}

type verifier struct {
	c   *Chain
	s   *snapshot
	r   *Report
	now time.Time
	opt VerifyOptions

	size     int64       // entries in order from 0 without a gap
	shift    int64       // how far the entries of the current run of moved ones sit off
	tree     []tlog.Hash // the tree over the stored leaf hashes
	origin   string
	keys     note.Verifiers
	keyErr   string
	pinned   []string
	lastGood *SignedCheckpoint // the last signed checkpoint the tree matches
}

func (v *verifier) add(p Problem) { v.r.Problems = append(v.r.Problems, p) }

// checkLeaves compares each entry's event with its stored leaf hash.
func (v *verifier) checkLeaves() {
	s := v.s
	v.size = int64(len(s.leaves))
	for i, l := range s.leaves {
		if l.idx != int64(i) {
			v.add(Problem{Index: int64(i), Last: l.idx - 1, Kind: "deleted", Detail: fmt.Sprintf("entries %d to %d are missing from the log", i, l.idx-1)})
			v.size = int64(i)
			break
		}
	}
	v.r.Entries = v.size
	// Which index each stored leaf hash belongs to, to tell a moved entry
	// from a changed one.
	at := make(map[tlog.Hash]int64, v.size)
	for i := int64(0); i < v.size; i++ {
		if h, ok := s.stored[tlog.StoredHashIndex(0, i)]; ok {
			at[h] = i
		}
	}
	for i := int64(0); i < v.size; i++ {
		l := s.leaves[i]
		stored, ok := s.stored[tlog.StoredHashIndex(0, i)]
		if l.event == nil {
			v.add(Problem{Index: i, EventID: l.eventID, Kind: "deleted", Detail: "the event this entry seals is gone"})
			continue
		}
		leaf := tlog.RecordHash(LeafData(*l.event))
		switch {
		case !ok:
			v.add(Problem{Index: i, EventID: l.event.ID, Kind: "inserted", Detail: "the entry has no hash in the tree: it was added around the sealer"})
		case leaf == stored:
		case l.event.ID != l.eventID:
			v.add(Problem{Index: i, EventID: l.event.ID, Kind: "reordered", Detail: "the entry names another event than the one sealed"})
		default:
			if j, moved := at[leaf]; moved {
				// After an insertion or a deletion every later entry sits
				// one place off: one problem says so, not one per entry.
				if last := len(v.r.Problems) - 1; last >= 0 && v.shift != 0 && v.shift == i-j && v.r.Problems[last].Last == i-1 {
					p := &v.r.Problems[last]
					p.Last = i
					base, _, _ := strings.Cut(p.Detail, "; then")
					p.Detail = fmt.Sprintf("%s; then entries %d to %d each sit %d place(s) off where they were sealed", base, p.Index+1, i, v.shift)
					continue
				}
				v.shift = i - j
				v.add(Problem{Index: i, Last: i, EventID: l.event.ID, Kind: "reordered", Detail: fmt.Sprintf("this event was sealed at index %d", j)})
			} else if i+1 < v.size && s.leaves[i+1].event != nil && tlog.RecordHash(LeafData(*s.leaves[i+1].event)) == stored {
				v.shift = 1
				v.add(Problem{Index: i, Last: i, EventID: l.event.ID, Kind: "inserted", Detail: "an entry was slipped in here: the event sealed here now sits at the next index"})
			} else {
				v.add(Problem{Index: i, EventID: l.event.ID, Kind: "modified", Detail: "the event no longer matches its leaf hash"})
			}
		}
	}
}

// buildTree recomputes the tree's interior from the stored leaf hashes (or
// the event's, where none is stored) and compares it with the stored
// interior: a leaf hash changed to fit a changed event shows above it.
func (v *verifier) buildTree() {
	s := v.s
	v.tree = make([]tlog.Hash, 0, tlog.StoredHashCount(v.size))
	r := tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(xs))
		for i, x := range xs {
			out[i] = v.tree[x]
		}
		return out, nil
	})
	for i := int64(0); i < v.size; i++ {
		leaf, ok := s.stored[tlog.StoredHashIndex(0, i)]
		if !ok && s.leaves[i].event != nil {
			leaf = tlog.RecordHash(LeafData(*s.leaves[i].event))
		}
		hs, err := tlog.StoredHashesForRecordHash(i, leaf, r)
		if err != nil { // cannot happen: every index read is below len(v.tree)
			panic(err)
		}
		v.tree = append(v.tree, hs...)
	}
	reported := false
	for x := int64(0); x < int64(len(v.tree)) && !reported; x++ {
		level, n := tlog.SplitStoredHashIndex(x)
		if got, ok := s.stored[x]; level > 0 && ok && got != v.tree[x] {
			first, last := n<<level, min((n+1)<<level, v.size)-1
			v.add(Problem{Index: first, Last: last, Kind: "modified", Detail: fmt.Sprintf("a stored tree hash over entries %d to %d was changed", first, last)})
			reported = true
		}
	}
	if extra := int64(len(s.stored)) - int64(len(v.tree)); extra > 0 {
		v.add(Problem{Index: v.size, Kind: "truncated", Detail: fmt.Sprintf("the tree keeps %d hashes beyond its %d entries: entries after %d were cut", extra, v.size, v.size-1)})
	}
}

func (v *verifier) treeReader() tlog.HashReader {
	return tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(xs))
		for i, x := range xs {
			if x >= int64(len(v.tree)) {
				return nil, errs.E(errs.Invalid, "tree hash %d is past the tree", x)
			}
			out[i] = v.tree[x]
		}
		return out, nil
	})
}

func (v *verifier) treeHash(size int64) tlog.Hash {
	h, err := tlog.TreeHash(size, v.treeReader())
	if err != nil { // cannot happen for size <= v.size
		panic(err)
	}
	return h
}

// trustKeys decides which keys checkpoints must be signed with.
func (v *verifier) trustKeys(ctx context.Context, tx *sql.Tx) error {
	k, err := v.c.loadKey(ctx, tx)
	switch {
	case errs.Is(err, errs.NotFound):
		v.keyErr = "the log has no note key"
		if v.size > 0 || len(v.s.cps) > 0 {
			v.add(Problem{Index: 0, Kind: "key", Detail: "the log has entries but no note key to sign them: the key was removed"})
		}
	case errs.Is(err, errs.Invalid):
		v.keyErr = err.Error()
		v.add(Problem{Index: -1, Kind: "key", Detail: err.Error()})
	case err != nil:
		return err
	}
	if len(v.opt.VerifierKeys) > 0 {
		var list []note.Verifier
		for _, vk := range v.opt.VerifierKeys {
			nv, err := note.NewVerifier(vk)
			if err != nil {
				return errs.Wrap(errs.Invalid, err, "verifier key %q", vk)
			}
			list = append(list, nv)
			v.origin = nv.Name()
		}
		v.keys = note.VerifierList(list...)
		if k != nil && !slices.Contains(v.opt.VerifierKeys, k.vkey) {
			v.add(Problem{Index: -1, Kind: "key", Detail: fmt.Sprintf("the database's note key %s is not the pinned one: the key was replaced", k.vkey)})
		}
		return nil
	}
	if k != nil {
		v.origin, v.keys = k.origin, note.VerifierList(k.verifier)
	}
	return nil
}

func (v *verifier) open(msg []byte) (Checkpoint, error) {
	if v.keys == nil {
		return Checkpoint{}, errs.E(errs.Invalid, "no key to check it with: %s", v.keyErr)
	}
	return OpenCheckpoint(msg, v.origin, v.keys)
}

// checkCheckpoints holds the tree against every signed checkpoint in the
// database. Only the first contradiction is named: the later ones follow
// from it.
func (v *verifier) checkCheckpoints() {
	v.r.Checkpoints = len(v.s.cps)
	var prev int64 // the size the last good checkpoint vouches for
	cut, rewritten := false, false
	for i := range v.s.cps {
		row := &v.s.cps[i]
		cp, err := v.open(row.Note)
		if err == nil && (cp.Size != row.Size || cp.Root != row.Root) {
			err = errs.E(errs.Invalid, "its size or root column differs from what it signs")
		}
		if err != nil {
			v.add(Problem{Index: prev, Last: row.Size - 1, Kind: "checkpoint", Detail: fmt.Sprintf("the checkpoint of size %d is not valid: %v", row.Size, err)})
			continue
		}
		switch {
		case cp.Size > v.size:
			if !cut {
				v.add(Problem{Index: v.size, Last: cp.Size - 1, Kind: "truncated",
					Detail: fmt.Sprintf("a checkpoint signed %s covers %d entries but the log has %d: the tail was cut", row.At.Format(time.RFC3339), cp.Size, v.size)})
				cut = true
			}
		case v.treeHash(cp.Size) != cp.Root:
			if !rewritten {
				v.add(Problem{Index: prev, Last: cp.Size - 1, Kind: "rewritten",
					Detail: fmt.Sprintf("entries %d to %d do not hash to the root signed %s: the tree was rewritten", prev, cp.Size-1, row.At.Format(time.RFC3339))})
				rewritten = true
			}
		default:
			if !rewritten && !cut {
				prev, v.lastGood = cp.Size, row
			}
		}
	}
	v.r.Signed = prev
	if prev < v.size && !cut && !rewritten {
		detail := fmt.Sprintf("entries %d to %d are covered by no valid signed checkpoint: every seal signs one in the same transaction, so they were added around the sealer", prev, v.size-1)
		if v.lastGood == nil {
			detail = fmt.Sprintf("the log has %d entries and not one valid signed checkpoint: the checkpoints were removed or forged", v.size)
		}
		v.add(Problem{Index: prev, Last: v.size - 1, Kind: "unsigned", Detail: detail})
	}
}

// checkWitness holds the log against the latest checkpoint a witness
// keeps outside the database.
func (v *verifier) checkWitness(ctx context.Context, w Witness) {
	msg, err := w.Latest(ctx)
	if errs.Is(err, errs.NotFound) {
		v.r.Outside = append(v.r.Outside, OutsideStatus{Name: w.String()})
		if len(v.s.cps) > 0 && v.now.Sub(v.s.cps[0].At) > v.opt.Grace {
			v.add(Problem{Index: 0, Last: v.size - 1, Kind: "unpinned",
				Detail: fmt.Sprintf("%s holds no checkpoint, though the log was first signed %s, more than %s ago", w, v.s.cps[0].At.Format(time.RFC3339), v.opt.Grace)})
		}
		return
	}
	if err != nil {
		v.r.Outside = append(v.r.Outside, OutsideStatus{Name: w.String()})
		v.add(Problem{Index: -1, Kind: "unpinned", Detail: fmt.Sprintf("cannot read %s: %v", w, err)})
		return
	}
	out, err := v.open(msg)
	if err != nil {
		v.r.Outside = append(v.r.Outside, OutsideStatus{Name: w.String()})
		v.add(Problem{Index: -1, Kind: "checkpoint", Detail: fmt.Sprintf("the latest checkpoint in %s is not valid: %v", w, err)})
		return
	}
	v.r.Outside = append(v.r.Outside, OutsideStatus{Name: w.String(), Size: out.Size})
	if out.Size == 0 {
		return // pins nothing
	}
	if out.Size > v.size {
		v.add(Problem{Index: v.size, Last: out.Size - 1, Kind: "truncated",
			Detail: fmt.Sprintf("%s pins %d entries but the database has %d: the tail was cut, with its checkpoints", w, out.Size, v.size)})
		return
	}
	// The database's claim is its tree at its full size, over the stored
	// leaf hashes (an entry slipped in without one, or a changed interior
	// hash, is named above); the consistency proof is built from it as a
	// log server would build it for an outside auditor.
	dbRoot, err := tlog.TreeHash(v.size, v.treeReader())
	if err == nil {
		var proof tlog.TreeProof
		if proof, err = tlog.ProveTree(v.size, out.Size, v.treeReader()); err == nil {
			err = tlog.CheckTree(proof, v.size, dbRoot, out.Size, out.Root)
		}
	}
	if err != nil {
		first, last := v.locate(ctx, w, out)
		v.add(Problem{Index: first, Last: last, Kind: "rewritten",
			Detail: fmt.Sprintf("the log is not an extension of the checkpoint of size %d that %s holds (%v): entries %d to %d were rewritten", out.Size, w, err, first, last)})
		return
	}
	if out.Size < v.size {
		// Entries signed but not yet copied out: normal for one publishing
		// interval, a problem once the grace is over.
		for _, cp := range v.s.cps {
			if cp.Size > out.Size {
				if v.now.Sub(cp.At) > v.opt.Grace {
					v.add(Problem{Index: out.Size, Last: v.size - 1, Kind: "unpinned",
						Detail: fmt.Sprintf("entries from %d on were signed %s but %s still holds only %d: the checkpoints are not being copied out", out.Size, cp.At.Format(time.RFC3339), w, out.Size)})
				}
				break
			}
		}
	}
}

// locate narrows a rewrite down, with every checkpoint a witness keeps, to
// the entries between the last checkpoint the recomputed tree still
// matches and the first it does not. Without a history, it is the whole
// pinned prefix.
func (v *verifier) locate(ctx context.Context, w Witness, latest Checkpoint) (int64, int64) {
	h, ok := w.(WitnessHistory)
	if !ok {
		return 0, latest.Size - 1
	}
	sizes, err := h.Sizes(ctx)
	if err != nil {
		return 0, latest.Size - 1
	}
	sizes = slices.DeleteFunc(sizes, func(s int64) bool { return s > latest.Size || s > v.size })
	matches := func(size int64) bool {
		msg, err := h.Read(ctx, size)
		if err != nil {
			return false
		}
		cp, err := v.open(msg)
		return err == nil && cp.Size == size && v.treeHash(size) == cp.Root
	}
	// The tree matches a prefix of the checkpoints and none after: the
	// first it does not match is found by binary search.
	bad, _ := slices.BinarySearchFunc(sizes, true, func(size int64, _ bool) int {
		if matches(size) {
			return -1
		}
		return 1
	})
	if bad >= len(sizes) {
		return 0, latest.Size - 1
	}
	first := int64(0)
	if bad > 0 {
		first = sizes[bad-1]
	}
	return first, sizes[bad] - 1
}

type sealedGroup struct {
	idx    int64
	digest string
	seen   bool
}

// groups finds the group events among the sealed ones.
func (v *verifier) groups() map[string]*sealedGroup {
	out := map[string]*sealedGroup{}
	for i := int64(0); i < v.size; i++ {
		l := v.s.leaves[i]
		if l.event == nil {
			continue
		}
		if d, ok := groupDigest(*l.event); ok {
			out[l.event.ID] = &sealedGroup{idx: i, digest: d}
		}
	}
	return out
}

// verifySubjects reads access_subject in order of event and number, and
// checks each sealed group event's subjects against its digest: people
// added to or removed from a group event, or subjects of no event at all,
// are reported.
func (c *Chain) verifySubjects(ctx context.Context, q sqldb.Querier, groups map[string]*sealedGroup) ([]Problem, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.event_id, s.subject_pid, e.id IS NULL FROM access_subject s
		LEFT JOIN access_event e ON e.id = s.event_id ORDER BY s.event_id, s.subject_pid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Problem
	var cur string
	var subjects []string
	var orphan bool
	flush := func() {
		if cur == "" {
			return
		}
		g, sealed := groups[cur]
		switch {
		case orphan:
			out = append(out, Problem{Index: -1, EventID: cur, Kind: "inserted", Detail: fmt.Sprintf("%d subjects name an event that does not exist", len(subjects))})
		case sealed:
			g.seen = true
			if SubjectsDigest(subjects) != g.digest {
				out = append(out, Problem{Index: g.idx, EventID: cur, Kind: "modified", Detail: fmt.Sprintf("the people of this group event were changed (%d stored)", len(subjects))})
			}
		}
	}
	for rows.Next() {
		var id, pid string
		var missing bool
		if err := rows.Scan(&id, &pid, &missing); err != nil {
			return nil, err
		}
		if id != cur {
			flush()
			cur, subjects, orphan = id, subjects[:0], missing
		}
		subjects = append(subjects, pid)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	for id, g := range groups {
		if !g.seen && g.digest != SubjectsDigest(nil) {
			out = append(out, Problem{Index: g.idx, EventID: id, Kind: "modified", Detail: "the people of this group event were removed"})
		}
	}
	return out, nil
}

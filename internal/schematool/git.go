package schematool

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"testing/fstest"
)

// GitRevision returns the files of the directory dir as they were at revision rev of the git
// repository that holds dir, read with git ls-tree and git show (which change nothing).
func GitRevision(ctx context.Context, dir, rev string) (fs.FS, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("revision %q must not start with -", rev)
	}
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	if _, err := git("rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		return nil, fmt.Errorf("unknown revision %s: %w", rev, err)
	}
	list, err := git("ls-tree", "-r", "-z", "--name-only", rev, "--", ".")
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	for _, name := range strings.Split(string(list), "\x00") {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := git("show", rev+":./"+name)
		if err != nil {
			return nil, err
		}
		out[name] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return out, nil
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/publish"
)

// localFile is a file named on the command line, or found in a folder
// named there, with the source key it is checked and uploaded as.
type localFile struct {
	path    string // as the author wrote it, or joined onto the folder they wrote
	key     string // "posts/…"
	size    int64
	modTime time.Time
}

// isPost reports whether the function treats the file as a post; any
// other file under posts/ is published as it is.
func (f localFile) isPost() bool { return strings.HasSuffix(strings.ToLower(f.key), ".md") }

// contentType is what the file is uploaded with. The function goes by the
// extension too; this only makes the bucket nicer to browse.
func (f localFile) contentType() string {
	ext := strings.ToLower(path.Ext(f.key))
	if ext == ".md" {
		return "text/markdown; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// collect expands the command line's files and folders into files with
// their keys, in command-line order, folders walked in lexical order. A
// file named twice is listed once. root is -root, or "" for the default
// described in the usage text.
func collect(args []string, root string) ([]localFile, error) {
	var files []localFile
	seen := map[string]bool{}
	add := func(p, root string, info fs.FileInfo) error {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		key, err := sourceKey(root, abs)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		files = append(files, localFile{path: p, key: key, size: info.Size(), modTime: info.ModTime()})
		return nil
	}
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		r := root
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: not a regular file", arg)
			}
			if r == "" {
				r = defaultRoot(filepath.Dir(arg))
			}
			if err := add(arg, r, info); err != nil {
				return nil, err
			}
			continue
		}
		if r == "" {
			r = defaultRoot(arg)
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != arg && strings.HasPrefix(d.Name(), ".") {
				// Editors' swap files, .DS_Store, .git.
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return add(p, r, info)
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// defaultRoot is the root of the files in dir when -root is not given:
// dir itself, or the folder above the page bundle dir is (or is directly
// inside), so that a bundle keeps its folder in the key.
func defaultRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d, i := abs, 0; i < 2; d, i = filepath.Dir(d), i+1 {
		if d == filepath.Dir(d) {
			break // the file system's root
		}
		if st, err := os.Stat(filepath.Join(d, "index.md")); err == nil && st.Mode().IsRegular() {
			return filepath.Dir(d)
		}
	}
	return abs
}

// sourceKey is the key of the file at abs under root.
func sourceKey(root, abs string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absRoot, abs)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("not inside the root folder %s", root)
	}
	return publish.DefaultPostsPrefix + filepath.ToSlash(rel), nil
}

// keyOf turns a status command's argument into a source key: a local
// file's key as above, or a key as it is ("posts/x.md"). local says
// whether it named a file.
func keyOf(arg, root string) (key string, local bool, err error) {
	if info, err := os.Stat(arg); err == nil && info.Mode().IsRegular() {
		if root == "" {
			root = defaultRoot(filepath.Dir(arg))
		}
		abs, err := filepath.Abs(arg)
		if err != nil {
			return "", false, err
		}
		key, err := sourceKey(root, abs)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", arg, err)
		}
		return key, true, nil
	}
	if strings.HasPrefix(arg, publish.DefaultPostsPrefix) && len(arg) > len(publish.DefaultPostsPrefix) {
		return arg, false, nil
	}
	return "", false, errors.New(arg + ": no such file, and not a key under " + publish.DefaultPostsPrefix)
}

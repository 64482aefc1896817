#!/usr/bin/env python3
"""Write a container image as an OCI image-layout tar archive, without Docker or a registry.

Usage: oci-image.py SPEC.json OUT.tar

The archive is what `ctr -n k8s.io images import OUT.tar` (containerd 1.6+) accepts: it holds
oci-layout, index.json and blobs/sha256/<hex>. index.json names the image with the full
reference in both `io.containerd.image.name` (which containerd's importer prefers, so no
--base-name is needed) and `org.opencontainers.image.ref.name`.

SPEC.json:
{
  "ref": "docker.io/hashicorp/vault:1.21.4",
  "config": {                        # the image config's "config" object, passed through:
    "Entrypoint": ["/x"], "Cmd": [], "Env": ["PATH=..."], "User": "65532:65532",
    "WorkingDir": "/", "ExposedPorts": {"8200/tcp": {}}, "Labels": {"k": "v"}
  },
  "layers": [                        # lowest first; each one becomes a gzip-compressed tar
    {
      "comment": "what the layer holds (becomes the history entry)",
      "entries": [
        {"path": "/bin/vault", "src": "/host/file", "mode": "0755"},   # regular file copied from the host
        {"path": "/etc/passwd", "text": "root:x:0:0::/root:/bin/sh\n"},   # regular file with this content
        {"path": "/vault/data", "dir": true, "mode": "0775", "uid": 100, "gid": 1000},
        {"path": "/bin/sh", "symlink": "busybox"},                      # symlink -> target
        {"path": "/scripts/crds", "tree": "/host/dir"}                   # a host directory, recursively
      ]
    }
  ]
}
uid/gid default to 0; mode defaults to 0644 for files (0755 when the host file is executable),
0755 for directories. Parent directories are added (0755, root) when not listed.

Output is deterministic: sorted entries, mtime 0, no user/group names, gzip without name or
time stamp; the same inputs give the same digests. Platform: linux/amd64.
"""

import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import tempfile

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PLATFORM = {"architecture": "amd64", "os": "linux"}
CHUNK = 1 << 20


class HashingWriter:
    """File-like wrapper computing the sha256 and size of everything written through it."""

    def __init__(self, f):
        self.f, self.h, self.size = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.size += len(b)
        return self.f.write(b)

    def tell(self):
        return self.size

    def flush(self):
        self.f.flush()

    def digest(self):
        return "sha256:" + self.h.hexdigest()


def fail(msg):
    sys.exit(f"oci-image.py: {msg}")


def parse_mode(v, default):
    if v is None:
        return default
    return int(v, 8) if isinstance(v, str) else int(v)


def norm(path):
    """'/a/b/' -> 'a/b' (tar member names are relative, no trailing slash)."""
    p = os.path.normpath("/" + path).lstrip("/")
    if not p or p == ".":
        fail(f"invalid path {path!r}")
    return p


def tarinfo(name, kind, mode, uid=0, gid=0, size=0, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = 0
    ti.size = size
    ti.linkname = linkname
    return ti


def expand(entries):
    """Spec entries -> {member name: (TarInfo, host source path or bytes or None)}."""
    members = {}

    def add(name, ti, data, explicit=True):
        if name in members:
            if not explicit:
                return
            if members[name][2]:  # two explicit definitions of the same path
                fail(f"{name} is listed twice in one layer")
        members[name] = (ti, data, explicit)
        # implicit parent directories
        parent = os.path.dirname(name)
        while parent and parent not in members:
            members[parent] = (tarinfo(parent, tarfile.DIRTYPE, 0o755), None, False)
            parent = os.path.dirname(parent)

    for e in entries:
        name = norm(e["path"])
        uid, gid = int(e.get("uid", 0)), int(e.get("gid", 0))
        if "src" in e:
            st = os.stat(e["src"])
            if not stat.S_ISREG(st.st_mode):
                fail(f"{e['src']} is not a regular file")
            mode = parse_mode(e.get("mode"), 0o755 if st.st_mode & 0o111 else 0o644)
            add(name, tarinfo(name, tarfile.REGTYPE, mode, uid, gid, st.st_size), e["src"])
        elif "text" in e:
            data = e["text"].encode()
            add(name, tarinfo(name, tarfile.REGTYPE, parse_mode(e.get("mode"), 0o644), uid, gid, len(data)), data)
        elif e.get("dir"):
            add(name, tarinfo(name, tarfile.DIRTYPE, parse_mode(e.get("mode"), 0o755), uid, gid), None)
        elif "symlink" in e:
            add(name, tarinfo(name, tarfile.SYMTYPE, 0o777, uid, gid, linkname=e["symlink"]), None)
        elif "tree" in e:
            root = e["tree"]
            if not os.path.isdir(root):
                fail(f"{root} is not a directory")
            add(name, tarinfo(name, tarfile.DIRTYPE, parse_mode(e.get("mode"), 0o755), uid, gid), None)
            for dirpath, dirnames, filenames in os.walk(root):
                rel = os.path.relpath(dirpath, root)
                for n in sorted(dirnames + filenames):
                    src = os.path.join(dirpath, n)
                    dst = norm(os.path.join(name, rel, n))
                    st = os.lstat(src)
                    if stat.S_ISLNK(st.st_mode):
                        add(dst, tarinfo(dst, tarfile.SYMTYPE, 0o777, uid, gid, linkname=os.readlink(src)), None)
                    elif stat.S_ISDIR(st.st_mode):
                        add(dst, tarinfo(dst, tarfile.DIRTYPE, 0o755, uid, gid), None)
                    elif stat.S_ISREG(st.st_mode):
                        mode = 0o755 if st.st_mode & 0o111 else 0o644
                        add(dst, tarinfo(dst, tarfile.REGTYPE, mode, uid, gid, st.st_size), src)
                    else:
                        fail(f"{src}: unsupported file type")
        else:
            fail(f"entry {e!r} has none of src, text, dir, symlink, tree")
    return members


def write_layer(entries, blobdir):
    """Write one layer blob; return (descriptor, diff_id)."""
    members = expand(entries)
    with tempfile.TemporaryFile(dir=blobdir) as raw:
        # 1. the uncompressed layer tar; its sha256 is the diff_id
        hw = HashingWriter(raw)
        with tarfile.open(fileobj=hw, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for name in sorted(members, key=lambda n: n.split("/")):
                ti, data, _ = members[name]
                if isinstance(data, bytes):
                    tf.addfile(ti, io.BytesIO(data))
                elif isinstance(data, str):
                    with open(data, "rb") as f:
                        if os.fstat(f.fileno()).st_size != ti.size:
                            fail(f"{data} changed while being read")
                        tf.addfile(ti, f)
                else:
                    tf.addfile(ti)
        diff_id = hw.digest()
        # 2. gzip it; the sha256 of the compressed bytes is the blob digest
        raw.seek(0)
        tmp = tempfile.NamedTemporaryFile(dir=blobdir, delete=False)
        with tmp:
            cw = HashingWriter(tmp)
            with gzip.GzipFile(filename="", mode="wb", fileobj=cw, mtime=0, compresslevel=6) as gz:
                while chunk := raw.read(CHUNK):
                    gz.write(chunk)
    digest = cw.digest()
    os.replace(tmp.name, os.path.join(blobdir, digest.split(":")[1]))
    return {"mediaType": MT_LAYER, "digest": digest, "size": cw.size}, diff_id


def write_json_blob(obj, blobdir, media_type):
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobdir, digest.split(":")[1]), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def main():
    if len(sys.argv) != 3:
        fail("usage: oci-image.py SPEC.json OUT.tar")
    spec_path, out = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    ref = spec.get("ref") or fail("spec has no ref")
    layers_spec = spec.get("layers") or fail("spec has no layers")
    out_dir = os.path.dirname(os.path.abspath(out))

    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".oci-") as work:
        blobdir = os.path.join(work, "blobs", "sha256")
        os.makedirs(blobdir)
        layers, diff_ids, history = [], [], []
        for layer in layers_spec:
            desc, diff_id = write_layer(layer["entries"], blobdir)
            layers.append(desc)
            diff_ids.append(diff_id)
            history.append({"created_by": layer.get("comment", "pulumi-vault-vso build-images.sh")})
        config = dict(PLATFORM)
        config["config"] = spec.get("config", {})
        config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
        config["history"] = history
        config_desc = write_json_blob(config, blobdir, MT_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": config_desc, "layers": layers}
        manifest_desc = write_json_blob(manifest, blobdir, MT_MANIFEST)
        manifest_desc["platform"] = dict(PLATFORM)
        manifest_desc["annotations"] = {
            "io.containerd.image.name": ref,
            "org.opencontainers.image.ref.name": ref,
        }
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [manifest_desc]}

        # the archive itself: oci-layout, index.json, then the blobs (sorted)
        tmp_out = out + ".tmp"
        with tarfile.open(tmp_out, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for name, data in (
                ("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
                ("index.json", json.dumps(index, sort_keys=True, indent=2).encode() + b"\n"),
            ):
                tf.addfile(tarinfo(name, tarfile.REGTYPE, 0o644, size=len(data)), io.BytesIO(data))
            tf.addfile(tarinfo("blobs", tarfile.DIRTYPE, 0o755))
            tf.addfile(tarinfo("blobs/sha256", tarfile.DIRTYPE, 0o755))
            for hexd in sorted(os.listdir(blobdir)):
                p = os.path.join(blobdir, hexd)
                with open(p, "rb") as f:
                    tf.addfile(tarinfo(f"blobs/sha256/{hexd}", tarfile.REGTYPE, 0o644, size=os.path.getsize(p)), f)
        os.replace(tmp_out, out)
    print(f"{ref} {manifest_desc['digest']} {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()

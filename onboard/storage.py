"""Object storage: a folder locally, an S3 bucket on AWS. Objects are addressed by key.

Both stores have the same methods. Code that needs a file on disk reads through `fetch(key)`
and writes through `publish(key, path)`, so it works unchanged on either store.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalObjectStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if not str(target).startswith(str(self.root.resolve())):
            raise ValueError(f"object key escapes the store: {key!r}")
        return target

    def put_file(self, key: str, source: Path) -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def put_bytes(self, key: str, data: bytes) -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def fetch(self, key: str) -> Path:
        """Return the object's file itself, which callers must not change."""
        target = self.path(key)
        if not target.is_file():
            raise FileNotFoundError(f"object {key!r} not found in {self.root}")
        return target

    def publish(self, key: str, source: Path) -> str:
        if Path(source).resolve() != self.path(key):
            self.put_file(key, Path(source))
        return key

    def metadata(self, key: str) -> dict[str, str]:
        """Return the object's user metadata, always empty because a folder stores none."""
        self.fetch(key)
        return {}


def aws_client(service: str):
    """Create a boto3 client, importing boto3 only when an AWS backend is used."""
    import boto3

    return boto3.client(service)


class S3ObjectStore:
    """Objects in an S3 bucket under an optional key prefix, through boto3.

    boto3 finds the region, credentials and endpoint (AWS_ENDPOINT_URL) itself. Downloads go to
    a private temporary folder that lives as long as this store object.
    """

    def __init__(self, bucket: str, prefix: str = "", client=None):
        if not bucket:
            raise ValueError("S3ObjectStore needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or aws_client("s3")
        self._cache: tempfile.TemporaryDirectory | None = None

    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid object key {key!r}: use a relative key without '..'")
        return self.prefix + key

    def _missing(self, error) -> bool:
        return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def put_bytes(self, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        return key

    def put_file(self, key: str, source: Path) -> str:
        self.client.upload_file(str(source), self.bucket, self._key(key))
        return key

    def publish(self, key: str, source: Path) -> str:
        return self.put_file(key, source)

    def get_bytes(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if self._missing(error):
                raise FileNotFoundError(f"object {key!r} not found in s3://{self.bucket}/{self.prefix}") from error
            raise

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if self._missing(error):
                return False
            raise
        return True

    def metadata(self, key: str) -> dict[str, str]:
        """Return the object's user metadata (x-amz-meta-* headers, names in lower case)."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if self._missing(error):
                raise FileNotFoundError(f"object {key!r} not found in s3://{self.bucket}/{self.prefix}") from error
            raise
        return {name.lower(): value for name, value in head.get("Metadata", {}).items()}

    def fetch(self, key: str) -> Path:
        """Download the object into this store's private cache and return the file.

        The file is removed when this store object is garbage-collected. Each call downloads again, so a reader never sees a stale copy of an overwritten key.
        """
        from botocore.exceptions import ClientError

        if self._cache is None:
            # TemporaryDirectory creates the folder with mode 0700 and removes it with the store.
            self._cache = tempfile.TemporaryDirectory(prefix="onboard-s3-")
        target = Path(self._cache.name) / self._key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            self.client.download_file(self.bucket, self._key(key), str(partial))
        except ClientError as error:
            partial.unlink(missing_ok=True)
            if self._missing(error):
                raise FileNotFoundError(f"object {key!r} not found in s3://{self.bucket}/{self.prefix}") from error
            raise
        partial.replace(target)
        return target

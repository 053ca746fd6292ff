"""Where attachment bytes live: a folder, under random names the user never chooses."""
import os
import secrets
from pathlib import Path


class AttachmentStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def save(self, data: bytes, extension: str) -> str:
        """Write the bytes under a new random name and return the name."""
        self.root.mkdir(parents=True, exist_ok=True)
        stored_name = f"{secrets.token_hex(16)}.{extension}"
        final = self.root / stored_name
        partial = self.root / f".{stored_name}.part"
        with open(partial, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, final)
        return stored_name

    def path_for(self, stored_name: str) -> Path:
        if "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
            raise ValueError("not a stored name")
        return self.root / stored_name

    def delete(self, stored_name: str) -> None:
        try:
            self.path_for(stored_name).unlink()
        except FileNotFoundError:
            pass

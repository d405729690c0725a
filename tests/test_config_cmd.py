"""`botticelli config path|show|validate` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botticelli import paths
from botticelli.cli import main

GROQ_KEY = "gsk_" + "q" * 44 + "LAST"


def write_config(text: str, mode: int = 0o600) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_path_prints_the_config_file_and_the_data_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "path"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"config: {paths.config_file()}", f"data: {paths.data_dir()}"]


def test_show_lists_profiles_key_status_and_the_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in out.splitlines()[2:-1]}
    assert lines["groq"].startswith("*")
    assert "set (GROQ_API_KEY)" in lines["groq"]
    assert "https://api.groq.com/openai/v1" in lines["groq"]
    assert "missing: set HF_TOKEN or HUGGINGFACE_API_KEY" in lines["huggingface"]
    assert "demo-fast" in lines["demo"]
    assert GROQ_KEY not in out
    assert out.rstrip().endswith("default profile: groq")


def test_show_masks_a_literal_key_from_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    write_config(f'[profiles.groq]\napi_key = "{GROQ_KEY}"\n')
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert GROQ_KEY not in out
    assert "set (api_key in config.toml, gsk_…LAST)" in out


def test_show_json_is_a_list_without_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        '[profiles.groq]\nheaders = { "Authorization" = "Bearer secret-header-value" }\n'
        '[profiles.my-vllm]\nbase_url = "http://127.0.0.1:8000/v1"\ndefault_model = "qwen"\n'
    )
    monkeypatch.setenv("HF_TOKEN", "hf_" + "t" * 36)
    assert main(["config", "show", "--json"]) == 0
    raw = capsys.readouterr().out
    assert "secret-header-value" not in raw and "tttt" not in raw
    profiles = {p["name"]: p for p in json.loads(raw)}
    assert profiles["huggingface"]["default"] is True
    assert profiles["huggingface"]["key"] == {
        "needed": True,
        "present": True,
        "source": "HF_TOKEN",
        "status": "set (HF_TOKEN)",
    }
    assert profiles["groq"]["key"]["status"] == "missing: set GROQ_API_KEY"
    assert profiles["groq"]["headers"] == ["Authorization"]
    assert profiles["my-vllm"]["base_url"] == "http://127.0.0.1:8000/v1"
    assert profiles["my-vllm"]["source"] == "config.toml"
    assert profiles["demo"]["simulated"] is True


def test_validate_ok_counts_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config('[profiles.my-vllm]\nbase_url = "http://127.0.0.1:8000/v1"\n')
    assert main(["config", "validate"]) == 0
    assert capsys.readouterr().out.strip() == f"ok: {path} (8 profiles)"


def test_validate_without_a_file_is_ok_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"ok: {paths.config_file()} (7 profiles)"
    assert "does not exist" in captured.err


def test_validate_reports_the_problem_in_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config('[profiles.groq]\ntimeout_s = "fast"\n')
    assert main(["config", "validate"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f'error: config: {path}: profiles.groq.timeout_s: expected a number, got "fast" (write timeout_s = 60)\n'
    )


def test_show_with_a_bad_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    write_config("default_profile = [\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: config: ") and "line" in err
    assert err.count("\n") == 1


def test_validate_warns_when_a_key_would_go_out_unencrypted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config('[profiles.lan]\nbase_url = "http://192.168.1.9:8000/v1"\napi_key_env = "LAN_KEY"\n')
    monkeypatch.setenv("LAN_KEY", "lan-secret-value")
    assert main(["config", "validate"]) == 0
    err = capsys.readouterr().err
    assert "warning: profile lan: would send the API key unencrypted to http://192.168.1.9:8000" in err
    assert "lan-secret-value" not in err


def test_validate_warns_about_a_malformed_key_without_showing_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk_MALFORMEDsecret12345\u00e9")
    write_config('[profiles.mine]\nbase_url = "https://api.example.com/v1"\napi_key = "sk-LITERALsecret123\\tx"\n')
    assert main(["config", "validate"]) == 0
    err = capsys.readouterr().err
    assert "warning: profile groq: the API key from GROQ_API_KEY contains a non-ASCII character" in err
    assert "warning: profile mine: the API key from api_key in config.toml contains a control character" in err
    assert "secret" not in err

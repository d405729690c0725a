"""Profiles, config.toml validation, key resolution and where keys may go."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from botticelli import paths
from botticelli.config import (
    ConfigError,
    Profile,
    RateLimits,
    check_key_destination,
    key_status,
    load_config,
    parse_target,
    read_config_data,
    resolve_api_key,
    save_config,
)

GROQ_KEY = "gsk_" + "k" * 44 + "WXYZ"


def write_config(text: str, mode: int = 0o600) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def load_error(text: str, mode: int = 0o600, env: dict[str, str] | None = None) -> str:
    write_config(text, mode)
    with pytest.raises(ConfigError) as info:
        load_config(env=env or {})
    message = info.value.one_line().removeprefix("error: config: ")
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


# --- built-ins and the default profile -------------------------------------------------------------------


def test_without_a_file_the_builtins_are_there_and_demo_is_the_default() -> None:
    config = load_config(env={})
    assert list(config.profiles)[:7] == ["groq", "huggingface", "openai", "together", "openrouter", "ollama", "demo"]
    assert config.default_profile == "demo"
    assert not config.exists
    groq = config.profiles["groq"]
    assert groq.base_url == "https://api.groq.com/openai/v1"
    assert groq.flavor == "groq"
    assert groq.api_key_env == ("GROQ_API_KEY",)
    assert groq.default_model == "llama-3.1-8b-instant"
    assert "llama-3.3-70b-versatile" in groq.models
    hf = config.profiles["huggingface"]
    assert hf.base_url == "https://router.huggingface.co/v1"
    assert hf.api_key_env == ("HF_TOKEN", "HUGGINGFACE_API_KEY")
    assert hf.default_model == "meta-llama/Llama-3.1-8B-Instruct"
    assert config.profiles["ollama"].base_url == "http://localhost:11434/v1"
    demo = config.profiles["demo"]
    assert demo.simulated and not demo.needs_key
    assert demo.models == ("demo-fast", "demo-slow", "demo-reasoning")
    assert demo.default_model == "demo-fast"
    assert "simulator" in demo.description


@pytest.mark.parametrize(
    ("env", "default"),
    [
        ({}, "demo"),
        ({"HUGGINGFACE_API_KEY": "hf_x"}, "huggingface"),
        ({"HF_TOKEN": "hf_x", "OPENAI_API_KEY": "sk-x"}, "huggingface"),
        ({"OPENROUTER_API_KEY": "x", "GROQ_API_KEY": "gsk_x"}, "groq"),
        ({"GROQ_API_KEY": "   "}, "demo"),
    ],
)
def test_default_profile_is_the_first_with_a_key(env: dict[str, str], default: str) -> None:
    assert load_config(env=env).default_profile == default


def test_user_profile_with_a_key_is_the_default_when_no_builtin_has_one() -> None:
    write_config('[profiles.mine]\nbase_url = "https://llm.example.com/v1"\napi_key_env = "MINE_KEY"\n')
    assert load_config(env={"MINE_KEY": "abc"}).default_profile == "mine"
    assert load_config(env={"MINE_KEY": "abc", "GROQ_API_KEY": "g"}).default_profile == "groq"


def test_default_profile_from_the_file_wins() -> None:
    write_config('default_profile = "ollama"\n')
    assert load_config(env={"GROQ_API_KEY": GROQ_KEY}).default_profile == "ollama"


def test_missing_key_hints_name_the_variables() -> None:
    config = load_config(env={})
    assert config.profiles["groq"].missing_key_hint() == "set GROQ_API_KEY"
    assert config.profiles["huggingface"].missing_key_hint() == "set HF_TOKEN or HUGGINGFACE_API_KEY"
    assert config.profiles["groq"].needs_key
    assert not config.profiles["ollama"].needs_key


# --- merging the file ------------------------------------------------------------------------------------


FULL = """
default_profile = "groq"

[profiles.groq]
timeout_s = 30
max_retries = 0
headers = { "X-Extra" = "1" }
[profiles.groq.rate_limits]
requests_per_minute = 30
requests_per_day = 1000
tokens_per_minute = 8000

[profiles.my-vllm]
base_url = "http://127.0.0.1:8000/v1/"
default_model = "Qwen/Qwen2.5-0.5B-Instruct"
flavor = "openai"

[ui]
theme = "nord"
"""


def test_file_fields_override_a_builtin_and_new_names_are_new_profiles() -> None:
    config = load_config(env={})
    assert config.profiles["groq"].timeout_s == 60
    write_config(FULL)
    config = load_config(env={})
    groq = config.profiles["groq"]
    assert groq.timeout_s == 30
    assert groq.max_retries == 0
    assert groq.base_url == "https://api.groq.com/openai/v1"
    assert groq.default_model == "llama-3.1-8b-instant"
    assert dict(groq.headers) == {"X-Extra": "1"}
    assert groq.rate_limits == RateLimits(30, 1000, 8000)
    assert groq.source == "built-in + config.toml"
    vllm = config.profiles["my-vllm"]
    assert vllm.base_url == "http://127.0.0.1:8000/v1"
    assert vllm.source == "config.toml"
    assert not vllm.needs_key
    assert config.default_profile == "groq"
    assert config.ui == {"theme": "nord"}
    assert config.exists


def test_profiles_are_immutable() -> None:
    write_config(FULL)
    groq = load_config(env={}).profiles["groq"]
    with pytest.raises(TypeError):
        groq.headers["X-New"] = "2"  # type: ignore[index]
    with pytest.raises(AttributeError):
        groq.timeout_s = 1  # type: ignore[misc]


# --- precise messages for bad files ----------------------------------------------------------------------


def test_bad_toml_gives_line_and_column() -> None:
    message = load_error('default_profile = "groq"\n[profiles.groq]\ntimeout_s = = 3\n')
    assert "config.toml: line 3, column" in message
    assert "fix the TOML syntax" in message


def test_wrong_type_names_the_key_the_value_and_the_fix() -> None:
    message = load_error('[profiles.groq]\ntimeout_s = "fast"\n')
    assert message.endswith(
        'config.toml: profiles.groq.timeout_s: expected a number, got "fast" (write timeout_s = 60)'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("defualt_profile = 'groq'\n", "defualt_profile: unknown setting (did you mean default_profile?)"),
        ("[profiles.groq]\ntimeout = 5\n", "profiles.groq.timeout: unknown profile field (did you mean timeout_s?)"),
        ("[profiles.groq]\nmodels = 'x'\n", 'profiles.groq.models: expected a list of strings, got "x"'),
        ("[profiles.groq]\nmax_retries = 1.5\n", "profiles.groq.max_retries: expected a whole number, got 1.5"),
        ("[profiles.groq]\nmax_retries = -1\n", "profiles.groq.max_retries: must not be negative"),
        ("[profiles.groq]\nconnect_timeout_s = -3\n", "connect_timeout_s: must be a positive number, got -3"),
        ("[profiles.groq]\nallow_insecure = 'yes'\n", "allow_insecure: expected true or false"),
        ("[profiles.groq]\nheaders = 'X: 1'\n", "profiles.groq.headers: expected a table"),
        ("[profiles.groq.rate_limits]\nrequests_per_minute = 0\n", "requests_per_minute: must be from 1 to"),
        ("[profiles.groq.rate_limits]\nrpm = 3\n", "profiles.groq.rate_limits.rpm: unknown rate limit"),
        ("[profiles.x]\nbase_url = 'ftp://host/v1'\n", 'base_url: "ftp://host/v1" is not an http(s) URL with a host'),
        ("[profiles.x]\nbase_url = 'https:///v1'\n", "is not an http(s) URL with a host"),
        ("[profiles.x]\ndefault_model = 'm'\n", "profiles.x: a new profile needs base_url (add base_url ="),
        ("default_profile = 'grok'\n", 'default_profile: no profile named "grok" (did you mean groq?)'),
        ("[profiles.groq]\napi_key_env = []\n", "profiles.groq.api_key_env: is empty"),
        ("[profiles.groq]\nflavor = 'anthropic'\n", 'flavor: unknown flavor "anthropic" (use one of groq,'),
        (
            "[profiles.groq]\napi_key = '$GROQ_KEY'\n",
            'looks like a variable but is not expanded (write api_key = "${GROQ_KEY}")',
        ),
        ("profiles = 3\n", "profiles: expected a table, got 3"),
        ('[profiles."a:b"]\nbase_url = "https://x.example/v1"\n', 'profiles."a:b": is not a usable profile name'),
    ],
)
def test_every_kind_of_bad_file_gets_a_precise_message(text: str, expected: str) -> None:
    message = load_error(text)
    assert message.startswith(str(paths.config_file()) + ": ") or message.startswith("~/")
    assert expected in message


def test_a_key_pasted_into_api_key_env_is_not_echoed() -> None:
    message = load_error(f'[profiles.groq]\napi_key_env = "{GROQ_KEY}"\n')
    assert GROQ_KEY not in message
    assert "is not an environment variable name" in message
    assert "gsk_…WXYZ" in message


def test_plain_text_key_in_a_readable_file_is_refused_like_netrc() -> None:
    path = paths.config_file()
    message = load_error(f'[profiles.groq]\napi_key = "{GROQ_KEY}"\n', mode=0o644)
    assert message.endswith(f"contains a plain-text api_key but is readable by others (run: chmod 600 {path})")
    assert GROQ_KEY not in message


def test_plain_text_key_in_an_owner_only_file_is_accepted() -> None:
    write_config(f'[profiles.groq]\napi_key = "{GROQ_KEY}"\n', mode=0o600)
    config = load_config(env={})
    assert resolve_api_key(config.profiles["groq"], {}) == GROQ_KEY
    assert config.default_profile == "groq"


def test_a_variable_reference_in_a_readable_file_is_fine() -> None:
    write_config('[profiles.groq]\napi_key = "${MY_GROQ}"\n', mode=0o644)
    config = load_config(env={"MY_GROQ": GROQ_KEY})
    assert resolve_api_key(config.profiles["groq"], {"MY_GROQ": GROQ_KEY}) == GROQ_KEY


def test_a_failed_load_never_touches_the_file() -> None:
    path = write_config('[profiles.groq]\ntimeout_s = "fast"  # keep this comment\n')
    before = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(ConfigError):
        load_config(env={})
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


def test_an_unreadable_or_non_utf8_file_is_a_config_error() -> None:
    path = write_config("")
    path.write_bytes(b'default_profile = "gr\xffoq"\n')
    message = load_error_from_existing()
    assert "line 1: not valid UTF-8" in message
    path.unlink()
    path.mkdir()
    assert "cannot read the file" in load_error_from_existing()


def load_error_from_existing() -> str:
    with pytest.raises(ConfigError) as info:
        load_config(env={})
    return info.value.one_line().removeprefix("error: config: ")


# --- keys ------------------------------------------------------------------------------------------------


def custom(**fields: object) -> Profile:
    fields.setdefault("base_url", "https://llm.example.com/v1")
    return Profile(name="custom", **fields)  # type: ignore[arg-type]


def test_key_precedence_literal_then_command_then_variables() -> None:
    env = {"A_KEY": "from-a", "B_KEY": "from-b"}
    cmd = f"{shlex.quote(sys.executable)} -c \"print('  from-cmd  ')\""
    assert resolve_api_key(custom(api_key_env=("A_KEY", "B_KEY")), env) == "from-a"
    assert resolve_api_key(custom(api_key_env=("NOPE", "B_KEY")), env) == "from-b"
    assert resolve_api_key(custom(api_key_env=("A_KEY",), api_key_cmd=cmd), env) == "from-cmd"
    assert resolve_api_key(custom(api_key="${B_KEY}", api_key_cmd=cmd), env) == "from-b"
    assert resolve_api_key(custom(api_key="literal", api_key_env=("A_KEY",)), env) == "literal"
    assert resolve_api_key(custom(api_key_env=("NOPE",)), env) is None
    assert resolve_api_key(custom(), env) is None


def test_an_unset_variable_reference_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_api_key(custom(api_key="${GROQ_PERSONAL}"), {})
    assert "${GROQ_PERSONAL}, which is not set (set GROQ_PERSONAL" in info.value.one_line()
    assert info.value.exit_code == 3


def test_a_failing_key_command_reports_its_status_but_never_its_output() -> None:
    script = "import sys; print('sk-leaked-secret-1'); print('sk-leaked-secret-2', file=sys.stderr); sys.exit(3)"
    profile = custom(api_key_cmd=f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}")
    with pytest.raises(ConfigError) as info:
        resolve_api_key(profile, {})
    message = info.value.one_line()
    assert "failed with exit status 3" in message
    assert "leaked" not in message


def test_a_missing_or_silent_or_hanging_key_command_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="command not found"):
        resolve_api_key(custom(api_key_cmd="botticelli-no-such-command --x"), {})
    silent = custom(api_key_cmd=f"{shlex.quote(sys.executable)} -c pass")
    with pytest.raises(ConfigError, match="printed nothing"):
        resolve_api_key(silent, {})
    hanging = custom(api_key_cmd=f'{shlex.quote(sys.executable)} -c "import time; time.sleep(30)"')
    with pytest.raises(ConfigError, match="did not finish"):
        resolve_api_key(hanging, {}, cmd_timeout_s=0.3)


def test_key_status_describes_the_source_without_the_key() -> None:
    groq = load_config(env={}).profiles["groq"]
    assert key_status(groq, {"GROQ_API_KEY": GROQ_KEY}).describe() == "set (GROQ_API_KEY)"
    assert key_status(groq, {}).describe() == "missing: set GROQ_API_KEY"
    literal = custom(api_key=GROQ_KEY)
    assert key_status(literal, {}).describe() == "set (api_key in config.toml, gsk_…WXYZ)"
    assert key_status(custom(api_key_cmd="pass show x"), {}).present is None
    assert key_status(custom(), {}).describe() == "not needed"


# --- where a key may go ----------------------------------------------------------------------------------


def test_a_key_is_never_sent_unencrypted_to_another_host() -> None:
    lan = custom(base_url="http://192.168.1.20:8000/v1")
    with pytest.raises(ConfigError) as info:
        check_key_destination(lan, "secret-key")
    assert "would send the API key unencrypted to http://192.168.1.20:8000" in info.value.one_line()
    assert "use https or set allow_insecure = true" in info.value.one_line()
    assert "secret-key" not in info.value.one_line()
    check_key_destination(custom(base_url="http://192.168.1.20:8000/v1", allow_insecure=True), "secret-key")
    check_key_destination(lan, None)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://127.8.9.10/v1",
        "http://localhost:11434/v1",
        "http://[::1]:8080/v1",
        "https://api.groq.com/openai/v1",
    ],
)
def test_loopback_and_https_are_fine(url: str) -> None:
    check_key_destination(custom(base_url=url), "secret-key")


def test_a_key_only_goes_to_its_own_base_url() -> None:
    groq = load_config(env={}).profiles["groq"]
    check_key_destination(groq, GROQ_KEY, "https://api.groq.com/openai/v1/chat/completions")
    for url in (
        "https://evil.example/openai/v1/chat/completions",
        "https://api.groq.com/other/v1/models",
        "http://api.groq.com/openai/v1/models",
    ):
        with pytest.raises(ConfigError, match="refusing to send its API key"):
            check_key_destination(groq, GROQ_KEY, url)


# --- saving ----------------------------------------------------------------------------------------------


def test_save_config_round_trips_and_is_private() -> None:
    data = {
        "default_profile": "my-vllm",
        "profiles": {
            "my-vllm": {"base_url": "http://127.0.0.1:8000/v1", "models": ["a", "b"], "timeout_s": 12.5},
            "groq": {"rate_limits": {"requests_per_minute": 30}},
        },
        "ui": {"theme": "gruvbox", "show_reasoning": True},
    }
    save_config(data)
    path = paths.config_file()
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert read_config_data() == data
    config = load_config(env={})
    assert config.default_profile == "my-vllm"
    assert config.profiles["my-vllm"].models == ("a", "b")
    assert config.ui["theme"] == "gruvbox"
    data["ui"]["theme"] = "nord"
    save_config(data)
    assert load_config(env={}).ui["theme"] == "nord"
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


def test_save_config_refuses_bad_data_and_keeps_the_old_file() -> None:
    path = write_config('default_profile = "demo"\n')
    with pytest.raises(ConfigError, match="timeout_s: expected a number"):
        save_config({"profiles": {"groq": {"timeout_s": "fast"}}})
    assert path.read_text() == 'default_profile = "demo"\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


# --- targets ---------------------------------------------------------------------------------------------


def test_parse_target_splits_at_the_first_colon() -> None:
    assert parse_target("huggingface:meta-llama/Llama-3.1-8B-Instruct:novita") == (
        "huggingface",
        "meta-llama/Llama-3.1-8B-Instruct:novita",
    )
    assert parse_target("groq:llama-3.1-8b-instant") == ("groq", "llama-3.1-8b-instant")
    for bad in ("groq", ":model", "groq:"):
        with pytest.raises(ConfigError, match="expected PROFILE:MODEL"):
            parse_target(bad)


def test_a_profile_survives_pickling_with_its_read_only_tables() -> None:
    """The load workers send profiles to other processes: headers and prices (read-only mappings) must travel."""
    import pickle

    write_config(
        '[profiles.mine]\nbase_url = "https://api.example.com/v1"\nheaders = { "X-Title" = "b" }\n'
        '[profiles.mine.prices]\n"m" = { input = 0.05, output = 0.08 }\n'
    )
    profile = load_config(env={}).profiles["mine"]
    again = pickle.loads(pickle.dumps(profile))
    assert again == profile and dict(again.headers) == {"X-Title": "b"} and dict(again.prices) == dict(profile.prices)
    with pytest.raises(TypeError):
        again.headers["X-Title"] = "changed"  # type: ignore[index]

"""Model reference validation: every bad reference is a 422 that says what to change."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from app.config import Settings
from app.errors import InvalidInput
from app.submissions.references import parse_hub_id, resolve, safetensors_parameter_count


def write_safetensors(path: Path, shapes: dict[str, list[int]]) -> None:
    header: dict[str, object] = {}
    offset = 0
    for name, shape in shapes.items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * count]}
        offset += 4 * count
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, hub_offline=True)


def test_bundled_model_resolves(offline: Settings) -> None:
    resolved = resolve("bundled:smollm2-135m-instruct", None, offline, None)
    assert resolved.source == "bundled"
    assert resolved.params_b == pytest.approx(0.135)


def test_unknown_bundled_model_lists_the_known_ones(offline: Settings) -> None:
    with pytest.raises(InvalidInput, match="available: bundled:smollm2-135m-instruct"):
        resolve("bundled:gpt-5", None, offline, None)


@pytest.mark.parametrize(
    "reference", ["not a model", "org/", "/org/name", "org/name/extra", "org/na me", "a/b@"]
)
def test_malformed_references_are_rejected(reference: str, offline: Settings) -> None:
    with pytest.raises(InvalidInput):
        resolve(reference, None, offline, None)


def test_malformed_hub_id_message_shows_the_accepted_forms(offline: Settings) -> None:
    with pytest.raises(InvalidInput, match=r"org/name or org/name@revision"):
        resolve("just-a-name", None, offline, None)


def test_hub_id_with_revision_parses() -> None:
    assert parse_hub_id("beomi/KoAlpaca@v1.0", None) == ("beomi/KoAlpaca", "v1.0")
    assert parse_hub_id("beomi/KoAlpaca", None) == ("beomi/KoAlpaca", "main")
    with pytest.raises(InvalidInput, match="two revisions"):
        parse_hub_id("beomi/KoAlpaca@v1", "v2")


def test_hub_id_offline_fails_fast_and_says_so(offline: Settings) -> None:
    with pytest.raises(InvalidInput, match="offline"):
        resolve("org/some-model", None, offline, None)


def test_unreachable_hub_fails_fast_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A closed loopback port: a real connection attempt that is refused at once.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    import importlib

    import huggingface_hub.constants

    importlib.reload(huggingface_hub.constants)
    try:
        settings = Settings(home=tmp_path, hub_offline=False, hub_timeout_seconds=3)
        with pytest.raises(InvalidInput, match="cannot reach the Hugging Face hub"):
            resolve("org/some-model", None, settings, None)
    finally:
        monkeypatch.undo()
        importlib.reload(huggingface_hub.constants)


def test_missing_local_folder(offline: Settings, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        resolve(str(tmp_path / "nope"), None, offline, None)


def test_folder_without_config(offline: Settings, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no config.json"):
        resolve(str(tmp_path), None, offline, None)


def test_folder_with_only_pickle_weights_is_told_to_convert(offline: Settings, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="convert them to safetensors"):
        resolve(str(tmp_path), None, offline, None)


def test_remote_code_is_refused(offline: Settings, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "x.Y"}}))
    write_safetensors(tmp_path / "model.safetensors", {"w": [2, 2]})
    with pytest.raises(InvalidInput, match="remote code"):
        resolve(str(tmp_path), None, offline, None)


def test_local_folder_parameters_come_from_safetensors_headers(offline: Settings, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    write_safetensors(tmp_path / "model-1.safetensors", {"a": [1000, 1000], "b": [500]})
    write_safetensors(tmp_path / "model-2.safetensors", {"c": [10, 10, 10]})
    assert safetensors_parameter_count(tmp_path / "model-1.safetensors") == 1_000_500
    resolved = resolve(str(tmp_path), None, offline, None)
    assert resolved.source == "local"
    assert resolved.reference == str(tmp_path.resolve())
    assert resolved.params_b == pytest.approx(0.0010015, abs=1e-7)


def test_corrupt_safetensors_is_a_clear_error(offline: Settings, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(InvalidInput, match="not a readable safetensors file"):
        resolve(str(tmp_path), None, offline, None)

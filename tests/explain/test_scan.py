"""The scanner on awkward input: binary, empty, CRLF, ANSI colours, UTF-16, text in other languages around
the error lines, one very long line, an error repeated many times, a large log in bounded memory.

Error lines are real: read from shared/corpus/errors (the corpus test owns their explanations)."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from shared_data import require_shared

from envkit.explain import explain_stream, explain_text, looks_like_error_log
from envkit.explain.scan import UnreadableInput


def corpus(name: str) -> bytes:
    path = next((require_shared() / "corpus" / "errors").glob(f"{name}__*.txt"))
    return path.read_bytes()


def ids(data: bytes) -> list[str]:
    return [d.id for d in explain_stream(io.BytesIO(data)).diagnoses]


def test_binary_input_is_unreadable() -> None:
    with pytest.raises(UnreadableInput) as err:
        explain_stream(io.BytesIO(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 8))
    assert err.value.exit_code == 2


def test_empty_input_has_no_diagnosis() -> None:
    result = explain_stream(io.BytesIO(b""))
    assert result.diagnoses == [] and result.lines == 0


def test_crlf_and_ansi_colours_do_not_hide_the_error() -> None:
    text = corpus("2-libcudart-so-11-0-missing-paddle").decode()
    coloured = "\x1b[31m" + text.replace("libcudart", "\x1b[1mlibcudart\x1b[0m") + "\x1b[0m"
    data = coloured.replace("\n", "\r\n").encode()
    result = explain_stream(io.BytesIO(data))
    assert [d.id for d in result.diagnoses] == ["cuda-runtime-library-missing"]
    assert result.diagnoses[0].facts["lib"] == "libcudart.so.11.0"
    assert "\x1b" not in result.diagnoses[0].quotes[0]


def test_utf16_with_bom_is_read() -> None:
    text = corpus("5-plan-incompatible-device-compute-61-vs-75").decode()
    data = b"\xff\xfe" + text.encode("utf-16-le")
    result = explain_stream(io.BytesIO(data))
    assert result.encoding == "utf-16-le"
    assert result.diagnoses[0].facts == {"device_cc": "6.1", "plan_cc": "7.5"}


@pytest.mark.parametrize("around", [
    "模型加载失败，请检查环境配置。\n正在初始化推理引擎……\n",
    "Die Installation wurde abgebrochen. Überprüfen Sie die Treiberversion.\n",
    "Ошибка при запуске: проверьте драйвер.\n",
    "エラーが発生しました。ドライバを確認してください。\n",
])
def test_other_languages_around_the_error(around: str) -> None:
    text = around + corpus("7-mamba-cudatoolkit-constraint-cuda-conflicts-driver-102").decode() + around
    result = explain_text(text)
    assert [d.id for d in result.diagnoses] == ["solve-cuda-constraint-too-old"]
    assert result.diagnoses[0].lines == [around.count("\n") + 2]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    data = b"caf\xe9 \xff\xfe\n" + corpus("4-libnvinfer-so8-error-loading-shared-libraries")
    assert ids(data) == ["trt-library-missing"]


def test_line_numbers_count_across_blocks() -> None:
    filler = b"".join(b"step %d ok\n" % i for i in range(300_000))  # ~3.6 MB: several read blocks
    err = corpus("6-dynamic-inputs-no-optimization-profile-trt71")
    result = explain_stream(io.BytesIO(filler + err))
    d = result.diagnoses[0]
    assert d.id == "build-no-optimization-profile"
    assert d.lines == [300_000 + 4]
    assert result.lines == 300_000 + err.count(b"\n")


def test_one_error_repeated_is_one_diagnosis_with_a_count() -> None:
    line = corpus("1-wsl2-gpu-access-blocked-l40s-server2025").splitlines()[1] + b"\n"
    result = explain_stream(io.BytesIO(line * 50_000))
    assert len(result.diagnoses) == 1
    assert result.diagnoses[0].count == 50_000
    assert result.diagnoses[0].lines == [1, 2, 3]


def test_a_huge_line_without_newline() -> None:
    err = corpus("5-version-tag-does-not-match-0-vs-97-orin-nx").splitlines()[0]
    data = b"x" * (9 << 20) + b" " + err
    assert "engine-version-tag-mismatch" in ids(data)


class _Generated(io.RawIOBase):
    """A log of ``total`` bytes produced on the fly (repeated real lines), so the test holds none of it."""

    def __init__(self, unit: bytes, total: int, tail: bytes) -> None:
        self.unit, self.left, self.tail = unit, total, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            data, self.tail = self.tail, b""
        else:
            reps = max(1, len(buf) // len(self.unit))
            data = self.unit * reps
            self.left -= len(data)
        n = min(len(buf), len(data))
        buf[:n] = data[:n]
        return n


@pytest.mark.slow
def test_large_log_in_bounded_memory() -> None:
    unit = corpus("2-cuda-driver-insufficient-bladebit").splitlines()[0] + b"\n"  # an nvidia-smi header line
    err = corpus("3-ort-cuda-provider-libcudnn-so8-missing")
    stream = io.BufferedReader(_Generated(unit, 48 << 20, err), buffer_size=1 << 20)
    tracemalloc.start()
    try:
        result = explain_stream(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.bytes >= 48 << 20
    assert [d.id for d in result.diagnoses] == ["cudnn-library-missing"]
    assert peak < 32 << 20, f"peak {peak / 2**20:.1f} MiB for a 48 MiB log"


def test_looks_like_error_log() -> None:
    assert looks_like_error_log(corpus("1-no-devices-were-found-rtx5090").decode())
    assert looks_like_error_log(corpus("7-conda-env-create-pip-failed-torch-cu116").decode())
    smi = (require_shared() / "fixtures" / "nvidia-smi" / "h200-driver-580.159.04" / "table.txt").read_text()
    assert not looks_like_error_log(smi)

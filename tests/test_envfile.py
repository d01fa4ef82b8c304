"""envfile: any conda environment file into CondaDep/PipDep records with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.envfile import (
    conda_version_match,
    parse_conda_spec,
    parse_env_text,
    parse_pip_line,
    read_env_file,
)
from envkit.errors import EnvFileError, InputError

DATA = Path(__file__).resolve().parent / "data" / "envfiles"


@pytest.mark.parametrize(
    ("raw", "name", "version", "build", "channel", "exact"),
    [
        ("python=3.9", "python", "3.9", None, None, "3.9"),
        ("python==3.7", "python", "==3.7", None, None, "3.7"),
        ("python >= 3.8", "python", ">=3.8", None, None, None),
        ("cudatoolkit=10.2.89=hfd86e86_1", "cudatoolkit", "10.2.89", "hfd86e86_1", None, "10.2.89"),
        ("cudatoolkit==10.1.243", "cudatoolkit", "==10.1.243", None, None, "10.1.243"),
        ("pytorch::pytorch-cuda=11.7.0", "pytorch-cuda", "11.7.0", None, "pytorch", "11.7.0"),
        ("onnxruntime=1.22=*cuda", "onnxruntime", "1.22", "*cuda", None, "1.22"),
        ("tensorrt[version='>=10']", "tensorrt", ">=10", None, None, None),
        ("numpy<1.23", "numpy", "<1.23", None, None, None),
        ("click>=8, <8.2", "click", ">=8,<8.2", None, None, None),
        ("nodejs=18.*", "nodejs", "18.*", None, None, "18"),
        ("cudnn=7.1.2=cuda9.0_0", "cudnn", "7.1.2", "cuda9.0_0", None, "7.1.2"),
        ("nvidia/label/cuda-11.8.0::cuda-toolkit", "cuda-toolkit", None, None, "nvidia/label/cuda-11.8.0", None),
        ("cudatoolkit==11.8.0=h6a678d5_0", "cudatoolkit", "==11.8.0", "h6a678d5_0", None, "11.8.0"),
    ],
)
def test_conda_specs(raw: str, name: str, version: str | None, build: str | None, channel: str | None,
                     exact: str | None) -> None:
    d = parse_conda_spec(raw, 3)
    assert (d.name, d.version, d.build, d.channel, d.exact_or_prefix, d.line) == (name, version, build, channel,
                                                                                 exact, 3)


def test_conda_version_match() -> None:
    assert conda_version_match("11.8", "11.8.89") and not conda_version_match("11.8", "11.7")
    assert conda_version_match(">=8,<8.2", "8.1.7") and not conda_version_match(">=8,<8.2", "8.2")
    assert conda_version_match("9.*|>=10", "10.1") and conda_version_match("==1.0", "1.0")


@pytest.mark.parametrize(
    ("raw", "name", "spec", "local", "pinned"),
    [
        ("torch==2.4.0+cu124", "torch", "==2.4.0+cu124", "+cu124", "2.4.0"),
        ("tensorrt-cu12==10.3.0", "tensorrt-cu12", "==10.3.0", None, "10.3.0"),
        ("nvidia_tensorrt==7.2.3.4", "nvidia-tensorrt", "==7.2.3.4", None, "7.2.3.4"),
        ("onnxruntime-gpu", "onnxruntime-gpu", "", None, None),
        ("databricks-cli < 0.100", "databricks-cli", "<0.100", None, None),
    ],
)
def test_pip_lines(raw: str, name: str, spec: str, local: str | None, pinned: str | None) -> None:
    d = parse_pip_line(raw, 7)
    assert (d.name, d.specifier, d.local, d.pinned_version, d.option, d.line) == (name, spec, local, pinned, None, 7)


def test_pip_options_urls_and_paths() -> None:
    assert parse_pip_line("--extra-index-url https://pypi.nvidia.com").option == "--extra-index-url https://pypi.nvidia.com"
    assert parse_pip_line("git+https://github.com/facebookincubator/submitit").name is None
    assert parse_pip_line("https://x.invalid/pkg.tar.gz#egg=my_pkg").name == "my-pkg"
    assert parse_pip_line(".").name is None and parse_pip_line("./sub/pkg").name is None
    with pytest.raises(ValueError, match="not a pip requirement"):
        parse_pip_line("not a ==== requirement")


def test_lines_channels_and_pip_section() -> None:
    env = read_env_file(DATA / "corpus" / "nv-morpheus__Morpheus__conda_environments_all_cuda-128_arch-x86_64.yaml")
    assert env.name == "all_cuda-128_arch-x86_64" and env.channels[0] == "conda-forge" and env.channel_lines[0] == 4
    assert env.find("cuda-version")[0].line == 35
    torch = env.find_pip("torch")[0]
    assert (torch.line, torch.local) == (155, "+cu124")
    assert [o.line for o in env.pip_options()] == [135, 136, 137]


# real files conda itself cannot read (a tab, a `pip:` key without `- `): tests/validate/test_corpus.py
NOT_YAML = {"DIG-Kaust__conda_envs__environment_diffusers_3090.yml", "UlrikFriisJensen__CHILI__environment.yml"}


def test_every_corpus_file_parses_strictly() -> None:
    for p in sorted((DATA / "corpus").glob("*.y*ml")):
        if p.name in NOT_YAML:
            continue
        env = read_env_file(p)
        assert env.conda and env.unparsed == [], p


def test_corpus_quirks() -> None:
    sleap = read_env_file(DATA / "corpus" / "talmo__gpuhackathon-sleap__tensorrt_environment.yml")
    assert sleap.channels == [] and sleap.pip_options()[0].option == "--extra-index-url https://pypi.ngc.nvidia.com"
    mmgan = read_env_file(DATA / "corpus" / "trane293__mm-gan__environment.yml")
    assert mmgan.prefix == "/home/asa224/anaconda3/envs/pytorch-CycleGAN-and-pix2pix"
    gan = read_env_file(DATA / "corpus" / "polimi-ispl__GAN-image-detection__environment.yml")
    pt = gan.find("pytorch")[0]
    assert (pt.version, pt.build, pt.line) == ("1.5.1", "py3.6_cuda10.2.89_cudnn7.6.5_0", 33)


def test_lenient_keeps_odd_specs_aside() -> None:
    text = "dependencies:\n  - 'foo bar baz'\n  - numpy\n  - pip:\n    - 'not a ==== requirement'\n"
    with pytest.raises(EnvFileError, match=r"env.yml:2: dependencies\[0\]: cannot read the version part"):
        parse_env_text(text, "env.yml")
    env = parse_env_text(text, "env.yml", lenient=True)
    assert [d.name for d in env.conda] == ["numpy"]
    assert [(line, raw) for line, raw, _ in env.unparsed] == [(2, "foo bar baz"), (5, "not a ==== requirement")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("invalid-yaml.yml", "invalid-yaml.yml:5: not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ("deps-not-list.yml", "deps-not-list.yml:2: dependencies: expected a list, got the string 'python=3.9'"),
        ("dep-number.yml", "dep-number.yml:4: dependencies[1]: expected a package spec string, got the number 3.9"),
        ("empty.yml", "empty.yml: the file is empty; expected a conda environment (name, channels, dependencies)"),
    ],
)
def test_bad_files(name: str, message: str) -> None:
    with pytest.raises(InputError) as info:  # EnvFileError, or the YAML reader's InputError
        read_env_file(DATA / "bad" / name, lenient=True)
    assert str(info.value).endswith(message)
    assert info.value.exit_code == 2


def test_unknown_key_strict_and_lenient() -> None:
    # envkit's own files are read strictly; validate reads like conda (warns, goes on) and keeps the key
    with pytest.raises(InputError) as info:
        read_env_file(DATA / "bad" / "unknown-key.yml")
    assert str(info.value).endswith("unknown-key.yml:2: channel: unknown key 'channel'")
    assert info.value.hint == "did you mean 'channels'?"
    env = read_env_file(DATA / "bad" / "unknown-key.yml", lenient=True)
    assert env.unknown_keys == [("channel", 2)] and [d.name for d in env.conda] == ["python"]


def test_micromamba_selectors() -> None:
    env = parse_env_text("dependencies:\n  - sel(linux): cudatoolkit=11.8\n  - sel(osx): libcxx\n  - numpy\n",
                         lenient=True)
    assert [(d.name, d.selector) for d in env.conda] == [("cudatoolkit", "linux"), ("numpy", None)]
    assert env.skipped_selectors == [(3, "osx", "libcxx")]


def test_empty_dependencies_is_an_empty_list() -> None:
    env = parse_env_text("name: x\nchannels: [conda-forge]\ndependencies:\n", "env.yml")
    assert env.conda == [] and env.pip == []


def test_spaced_operators() -> None:
    assert parse_conda_spec("python >= 3.8").version == ">=3.8"
    assert parse_conda_spec("foo >=1.0 , <2 | ==3").version == ">=1.0,<2|==3"
    assert (parse_conda_spec("numpy 1.21.* py39_0").version, parse_conda_spec("numpy 1.21.* py39_0").build) == (
        "1.21.*", "py39_0")

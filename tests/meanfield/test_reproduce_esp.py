"""The ESP stages against the paper's qualitative findings (section 3, appendix B)."""

from meanfield.reproduce import run_stage
from meanfield.reproduce.esp import STAGES

BY_NAME = {s.name: s for s in STAGES}


def _numbers(tmp_path, name):
    result = run_stage(BY_NAME[name], tmp_path, True, None, 0, False, None)
    return {n["key"]: n["value"] for n in result["numbers"]}, result


def test_training_esp_reaches_the_lowest_loss_on_the_nonlinear_task(tmp_path):
    numbers, result = _numbers(tmp_path, "esp_training")
    for arch in ("2-10-1", "2-8-2-1"):
        esp = numbers[f"loss_nonlinear_{arch}_esp"]
        assert esp < numbers[f"loss_nonlinear_{arch}_relu"] and esp < numbers[f"loss_nonlinear_{arch}_sigmoid"]
    assert any("synthetic" in n for n in result["notes"])
    assert (tmp_path / "esp_training" / "loss.png").is_file()


def test_relu_has_exact_zero_eigenvalues_and_esp_has_none(tmp_path):
    numbers, _ = _numbers(tmp_path, "esp_hessian")
    assert numbers["gamma_exact_relu"] > 0.0
    assert numbers["gamma_exact_esp"] == 0.0
    for name in ("alpha_gamma.png", "residuals.png", "eigenvalues.png", "eigenvectors.png"):
        assert (tmp_path / "esp_hessian" / name).is_file()

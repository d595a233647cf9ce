"""`blocked=`: operators refused at the torch dispatcher, numpy's gufuncs by name, whole modules
at import; every private path to the same work is refused too, and the job ends `refused` even
when the code catches the exception. Ordinary torch/numpy work is unaffected."""
from __future__ import annotations

import numpy as np
import pytest

from graders.engines.sandbox import run_task

from sandbox_helpers import EIGEN_BLOCKED, KIT, run_solution

pytestmark = pytest.mark.usefixtures("still_works")

S = "torch.tensor([[2.0, 1.0], [1.0, 3.0]])"
A = "numpy.array([[2.0, 1.0], [1.0, 3.0]])"
REFUSED_CALLS = {
    # torch: public names, private bindings, composites, grad, vmap
    "linalg.eigh": f"torch.linalg.eigh({S})",
    "linalg.eigvalsh": f"torch.linalg.eigvalsh({S})",
    "linalg.eig": f"torch.linalg.eig({S})",
    "linalg.eigvals": f"torch.linalg.eigvals({S})",
    "linalg.svd": f"torch.linalg.svd({S})",
    "linalg.svdvals": f"torch.linalg.svdvals({S})",
    "torch.svd": f"torch.svd({S})",
    "Tensor.svd": f"{S}.svd()",
    "eigh out=": f"torch.linalg.eigh({S}, out=(torch.empty(2), torch.empty(2, 2)))",
    "ops.aten._linalg_eigh": f"torch.ops.aten._linalg_eigh({S})",
    "ops.aten._linalg_svd": f"torch.ops.aten._linalg_svd.default({S})",
    "_VariableFunctions.svd": f"torch._C._VariableFunctions.svd({S})",
    "_C._linalg.linalg_eigh": f"torch._C._linalg.linalg_eigh({S})",
    "requires_grad": f"torch.linalg.eigh({S}.requires_grad_())",
    "vmap": f"torch.vmap(torch.linalg.eigvalsh)({S}[None])",
    "pca_lowrank": f"torch.pca_lowrank({S}, q=1)",
    "svd_lowrank": f"torch.svd_lowrank({S}, q=1)",
    "lobpcg": "torch.lobpcg(torch.diag(torch.arange(1.0, 11.0)), k=1)",
    "pinv hermitian": f"torch.linalg.pinv({S}, hermitian=True)",
    "matrix_norm ord=2": f"torch.linalg.matrix_norm({S}, ord=2)",
    # numpy: public names and the gufuncs beneath them
    "numpy.linalg.eigh": f"numpy.linalg.eigh({A})",
    "numpy.linalg.svd": f"numpy.linalg.svd({A})",
    "numpy.linalg.eigvals": f"numpy.linalg.eigvals({A})",
    "_umath_linalg.eigh_lo": f"numpy.linalg._umath_linalg.eigh_lo({A})",
    "_umath_linalg.svd_f": f"numpy.linalg._umath_linalg.svd_f({A})",
    "numpy roots (companion eigvals)": "numpy.roots([1.0, -3.0, 2.0])",
    # scipy and sklearn: refused at import
    "scipy lapack dsyevd": f"importlib.import_module('scipy.linalg.lapack').dsyevd({A})",
    "scipy get_lapack_funcs": f"importlib.import_module('scipy.linalg').get_lapack_funcs(('syevd',), ({A},))",
    "scipy.linalg._flapack": "importlib.import_module('scipy.linalg._flapack')",
    "sklearn PCA": f"importlib.import_module('sklearn.decomposition').PCA(1).fit({A})",
}


@pytest.mark.parametrize("call", list(REFUSED_CALLS.values()), ids=list(REFUSED_CALLS))
def test_eigen_and_svd_work_is_refused_by_every_path_even_when_caught(call):
    result = run_solution(f"""
        import importlib, sys
        import numpy, torch
        def main():
            try:
                {call}
            except BaseException:
                pass
            return [1.0, 0.0]
    """, blocked=EIGEN_BLOCKED, timeout_s=20)
    assert result.kind == "refused" and not result.ok and result.value is None, result
    assert "does not allow" in result.error


def test_reimporting_or_reloading_the_gufunc_module_does_not_bring_them_back():
    result = run_solution(f"""
        import importlib, sys
        import numpy
        def main():
            computed = []
            def fresh():
                sys.modules.pop("numpy.linalg._umath_linalg")
                return importlib.import_module("numpy.linalg._umath_linalg")
            for get in (fresh, lambda: importlib.reload(numpy.linalg._umath_linalg)):
                try:
                    computed.append(get().eigh_lo({A})[0].tolist())
                except BaseException as exc:
                    computed.append(type(exc).__name__)
            return computed
    """, blocked=EIGEN_BLOCKED, timeout_s=20)
    # numpy refuses to load its extension twice, and a module that does load again is patched
    assert result.kind == "refused" or (result.ok and all(isinstance(c, str) for c in result.value)), result


def test_the_refusal_names_what_was_used():
    result = run_solution(f"""
        import torch
        def main():
            try:
                import sklearn
            except ImportError as exc:
                assert "not allowed" in str(exc)
            return torch.ops.aten._linalg_svd({S})
    """, blocked=EIGEN_BLOCKED, timeout_s=20)
    assert result.kind == "refused"
    assert "aten::_linalg_svd" in result.error and "module:sklearn" in result.error


def test_gradient_descent_with_matmul_autograd_and_optimisers_is_unaffected():
    result = run_solution("""
        import numpy, torch
        def main():
            X = torch.randn(200, 4, generator=torch.Generator().manual_seed(0)) * torch.tensor([3.0, 1.0, 0.5, 0.1])
            X = X - X.mean(0)
            w = torch.full((4,), 0.5, requires_grad=True)
            for opt in (torch.optim.SGD([w], lr=0.01), torch.optim.Adam([w], lr=0.01)):
                for _ in range(300):
                    loss = ((X - (X @ w)[:, None] * w) ** 2).sum(1).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            q, _ = torch.linalg.qr(torch.eye(3))
            a = numpy.linalg.qr(numpy.eye(3))[0]
            return [w.detach().tolist(), float(torch.linalg.vector_norm(w).detach()),
                    float(numpy.linalg.norm(numpy.ones(4))), float(numpy.linalg.solve(numpy.eye(2), numpy.ones(2))[0]),
                    float(q.abs().sum()), float(numpy.abs(a).sum()), float(torch.linalg.det(torch.eye(2)))]
    """, blocked=EIGEN_BLOCKED, timeout_s=30)
    assert result.kind == "ok", result
    w, norm, np_norm, solved, q_sum, a_sum, det = result.value
    assert abs(abs(w[0]) - 1) < 0.05 and max(abs(v) for v in w[1:]) < 0.05  # the top direction, ||w|| = 1
    assert abs(norm - 1) < 0.05 and np_norm == 2.0 and solved == 1.0 and q_sum == a_sum == 3.0 and det == 1.0


def test_blocking_is_per_job():
    result = run_solution("""
        import torch
        def main():
            return torch.linalg.eigvalsh(torch.diag(torch.tensor([3.0, 1.0]))).tolist()
    """)
    assert result.ok and result.value == [1.0, 3.0]


@pytest.mark.parametrize("entry", ["aten::", "aten::a.b", "module:", "module:.x", "torch", "a..b", "aten:x"])
def test_malformed_blocked_entries_are_a_caller_error(entry):
    with pytest.raises(ValueError, match="blocked entries"):
        run_task("sbxkit.tasks:empty", {}, blocked=[entry], kit_root=KIT)


def test_a_refused_job_returns_no_value_even_if_it_computed_one():
    result = run_solution(f"""
        import torch
        def main():
            try:
                torch.linalg.eigh({S})
            except RuntimeError:
                pass
            return numpy_free_power_iteration()
        def numpy_free_power_iteration():
            v = torch.ones(2)
            for _ in range(50):
                v = {S} @ v
                v = v / v.norm()
            return v
    """, blocked=EIGEN_BLOCKED, timeout_s=20)
    assert result.kind == "refused" and result.value is None
    assert np.isfinite(result.wall_ms)

"""dyngrad's test suite (a package, so `tests.harness` always names this folder's module)."""

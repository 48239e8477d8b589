"""The version of preflight, in a module of its own so any layer can name it without importing the
package root (which imports the API, and through it every layer)."""

__version__ = "0.2.0"

# The name on the package index (``pip install pytorch-preflight``): ``preflight`` there is an unrelated
# project. The import name and the ``preflight`` command are ``preflight``.
DISTRIBUTION = "pytorch-preflight"

pytest_plugins = ["tests.fixtures.prometheus"]

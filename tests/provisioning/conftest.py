def pytest_configure(config):
    # Known to pytest-xdist; registered here too so that runs without xdist accept the marker.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one xdist worker")

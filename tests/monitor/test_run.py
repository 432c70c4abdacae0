import platform

from monitor.run import map_large_blocks


def test_large_blocks_are_mapped_where_the_c_library_is_glibc():
    assert map_large_blocks() is (platform.libc_ver()[0] == "glibc")

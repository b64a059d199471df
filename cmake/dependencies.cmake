# Every dependency is a Debian 12 package installed by tools/setup.sh.
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)

# One interface target carries how Asio and Beast are built: separately compiled (one .cpp holds
# their implementation, see src/core/asio_impl.cpp and src/http/beast_impl.cpp) so that a change
# to one protocol does not recompile the library in every file, and the shard event backend.
add_library(junction_asio INTERFACE)
target_link_libraries(junction_asio INTERFACE Boost::headers Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
target_compile_definitions(junction_asio INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_BEAST_USE_STD_STRING_VIEW
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
if(JUNCTION_IO_BACKEND STREQUAL "io_uring")
  # With epoll disabled, Asio's io_uring service carries sockets and timers, not only files.
  target_compile_definitions(junction_asio INTERFACE BOOST_ASIO_HAS_IO_URING BOOST_ASIO_DISABLE_EPOLL)
  target_link_libraries(junction_asio INTERFACE PkgConfig::URING)
elseif(NOT JUNCTION_IO_BACKEND STREQUAL "epoll")
  message(FATAL_ERROR "JUNCTION_IO_BACKEND must be io_uring or epoll, not ${JUNCTION_IO_BACKEND}")
endif()

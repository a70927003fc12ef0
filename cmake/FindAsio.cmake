# FindAsio: locates standalone Asio (Debian's libasio-dev ships no CMake package).
# Defines Asio_FOUND, Asio_VERSION and the imported target Asio::asio, which carries
# ASIO_STANDALONE and ASIO_NO_DEPRECATED and links Threads::Threads. Asio 1.22 detects
# C++20 coroutine support on clang only through the Coroutines TS macros, which clang 14
# no longer defines in C++20 mode; the target turns it on for clang so that asio::awaitable
# works there as it does on g++ (every translation unit sees the same setting).
find_path(Asio_INCLUDE_DIR NAMES asio.hpp asio/version.hpp)
if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
       REGEX "^#define ASIO_VERSION [0-9]+")
  string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" _asio_v "${_asio_version_line}")
  math(EXPR _asio_major "${_asio_v} / 100000")
  math(EXPR _asio_minor "${_asio_v} / 100 % 1000")
  math(EXPR _asio_patch "${_asio_v} % 100")
  set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Asio REQUIRED_VARS Asio_INCLUDE_DIR VERSION_VAR Asio_VERSION)
if(Asio_FOUND AND NOT TARGET Asio::asio)
  find_package(Threads REQUIRED)
  add_library(Asio::asio INTERFACE IMPORTED)
  set_target_properties(Asio::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS
      "ASIO_STANDALONE;ASIO_NO_DEPRECATED;$<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1;ASIO_HAS_STD_COROUTINE=1>"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(Asio_INCLUDE_DIR)

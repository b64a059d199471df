# Install rules (docs/install.md): `cmake --install build [--prefix P] [--component C]`.
#
#   component  what                                         where (GNUInstallDirs)
#   runtime    the junction binary                          ${CMAKE_INSTALL_BINDIR}/junction
#              the web root (conf/www)                      ${CMAKE_INSTALL_DATADIR}/junction/www
#              the configuration (conf/junction.toml, with  ${CMAKE_INSTALL_FULL_SYSCONFDIR}/junction/junction.toml
#              the paths of an installed server)
#   man        the man page (docs/junction.8)               ${CMAKE_INSTALL_MANDIR}/man8/junction.8
#   systemd    the unit (conf/junction.service.in)          ${JUNCTION_SYSTEMD_UNIT_DIR}/junction.service
#
# Tests, benchmarks and tools (junction-load) are not installed.
#
# The configuration names the web root, and the unit names the binary and the configuration: all
# of them depend on the prefix, and `cmake --install --prefix P` chooses the prefix after
# configuring. So those two files are written at install time, by this same file run from the
# install script (JUNCTION_INSTALL_STEP set, see the end), for the prefix actually used. The
# configuration directory follows GNUInstallDirs' rule for that prefix: /usr and / install it in
# /etc, /opt/<x> in /etc/opt/<x>, any other prefix in <prefix>/etc.
#
# An existing configuration file that differs from the one being installed (an administrator's
# edits) is kept; the new one is installed beside it as junction.toml.new.

# Run both at configure time and from the install script (its own policy scope: include()).
cmake_policy(VERSION 3.25)

# The keys of conf/junction.toml an installed server gets other values for (section, key, value
# as a TOML string). Every key is unique in the file, at the start of its line.
function(junction_installed_config_text source_file web_root state_dir out_var)
  file(READ "${source_file}" text)
  foreach(entry
      "http|web_root|${web_root}"
      "users|database|${state_dir}/users.sqlite"
      "recording|directory|${state_dir}/recordings")
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 section)
    list(GET entry 1 key)
    list(GET entry 2 value)
    set(pattern "\n${key} = \"[^\"\n]*\"")
    string(REGEX MATCHALL "${pattern}" found "${text}")
    list(LENGTH found count)
    if(NOT count EQUAL 1)
      message(FATAL_ERROR "${source_file}: expected one line `${key} = \"...\"` (${section}.${key}), "
                          "found ${count}; cmake/install.cmake sets it for an installed server")
    endif()
    string(REGEX REPLACE "${pattern}" "\n${key} = \"${value}\"" text "${text}")
  endforeach()
  string(CONCAT text
      "# Installed by `cmake --install` from conf/junction.toml: http.web_root, users.database and\n"
      "# recording.directory are set for an installed server; everything else is the default.\n"
      "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# Where a GNUInstallDirs directory ends up for `prefix` (GNUInstallDirs_get_absolute_install_dir's
# rule, applied at install time). Only SYSCONFDIR is special here: the others are installed by
# install() at ${prefix}/<dir>, and the files must name the place they really are.
function(junction_install_full_dir out_var prefix dir kind)
  if(IS_ABSOLUTE "${dir}")
    set(full "${dir}")
  elseif(kind STREQUAL "SYSCONFDIR" AND (prefix STREQUAL "/" OR prefix MATCHES "^/usr/?$"))
    set(full "/${dir}")
  elseif(kind STREQUAL "SYSCONFDIR" AND prefix MATCHES "^/opt/" AND NOT prefix MATCHES "^/opt/homebrew/")
    set(full "/${dir}${prefix}")
  else()
    set(full "${prefix}/${dir}")
  endif()
  cmake_path(SET full NORMALIZE "${full}")
  string(REGEX REPLACE "(.)/$" "\\1" full "${full}")
  set(${out_var} "${full}" PARENT_SCOPE)
endfunction()

# --------------------------------------------------------------------------------------------
# Install time: JUNCTION_INSTALL_STEP is "config" or "unit" (set by the install(CODE) below).
if(JUNCTION_INSTALL_STEP)
  junction_install_full_dir(_junction_bindir "${CMAKE_INSTALL_PREFIX}" "${_junction_rel_bindir}" BINDIR)
  junction_install_full_dir(_junction_datadir "${CMAKE_INSTALL_PREFIX}" "${_junction_rel_datadir}" DATADIR)
  junction_install_full_dir(_junction_sysconfdir "${CMAKE_INSTALL_PREFIX}" "${_junction_rel_sysconfdir}" SYSCONFDIR)
  junction_install_full_dir(_junction_unitdir "${CMAKE_INSTALL_PREFIX}" "${_junction_rel_unitdir}" UNITDIR)
  string(MD5 _junction_stage "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
  set(_junction_stage "${_junction_binary_dir}/junction-install/${_junction_stage}")

  if(JUNCTION_INSTALL_STEP STREQUAL "config")
    junction_installed_config_text("${_junction_source_dir}/conf/junction.toml"
                                   "${_junction_datadir}/junction/www" "${_junction_state_dir}" _junction_text)
    file(WRITE "${_junction_stage}/junction.toml" "${_junction_text}")
    set(_junction_dest "${_junction_sysconfdir}/junction")
    set(_junction_name junction.toml)
    # Keep an administrator's edits: a different file already there stays, the new one goes
    # beside it.
    if(EXISTS "$ENV{DESTDIR}${_junction_dest}/junction.toml")
      file(READ "$ENV{DESTDIR}${_junction_dest}/junction.toml" _junction_old)
      if(NOT "${_junction_old}" STREQUAL "${_junction_text}")
        set(_junction_name junction.toml.new)
        message(STATUS "Keeping $ENV{DESTDIR}${_junction_dest}/junction.toml (it differs from the "
                       "default); the default goes to junction.toml.new")
      endif()
      unset(_junction_old)
    endif()
    set(_junction_file "${_junction_stage}/junction.toml")
    unset(_junction_text)
  elseif(JUNCTION_INSTALL_STEP STREQUAL "unit")
    file(READ "${_junction_source_dir}/conf/junction.service.in" _junction_text)
    set(JUNCTION_BINARY "${_junction_bindir}/junction")
    set(JUNCTION_CONFIG "${_junction_sysconfdir}/junction/junction.toml")
    set(JUNCTION_STATE_DIRECTORY "${_junction_state_name}")
    string(CONFIGURE "${_junction_text}" _junction_text @ONLY)
    unset(JUNCTION_BINARY)
    unset(JUNCTION_CONFIG)
    unset(JUNCTION_STATE_DIRECTORY)
    file(WRITE "${_junction_stage}/junction.service" "${_junction_text}")
    set(_junction_dest "${_junction_unitdir}")
    set(_junction_name junction.service)
    set(_junction_file "${_junction_stage}/junction.service")
    unset(_junction_text)
  else()
    message(FATAL_ERROR "cmake/install.cmake: unknown JUNCTION_INSTALL_STEP '${JUNCTION_INSTALL_STEP}'")
  endif()

  # As install() does for a destination outside the prefix (CPack reads this list).
  cmake_path(IS_PREFIX CMAKE_INSTALL_PREFIX "${_junction_dest}" NORMALIZE _junction_inside)
  if(NOT _junction_inside)
    list(APPEND CMAKE_ABSOLUTE_DESTINATION_FILES "${_junction_dest}/${_junction_name}")
    if(CMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION)
      message(FATAL_ERROR "ABSOLUTE path INSTALL DESTINATION forbidden (by caller): ${_junction_dest}")
    endif()
  endif()
  # file(INSTALL) is what install() runs: it honours DESTDIR, prints "-- Installing: ..." and
  # records the file in install_manifest.txt (so this must not run inside a function).
  file(INSTALL DESTINATION "${_junction_dest}" TYPE FILE RENAME "${_junction_name}" FILES "${_junction_file}")
  # The staging folder is one per prefix and DESTDIR, so that installs into several prefixes at
  # once (the tests) do not mix their files.
  file(REMOVE_RECURSE "${_junction_stage}")
  foreach(_junction_var bindir datadir sysconfdir unitdir stage dest file name inside)
    unset(_junction_${_junction_var})
  endforeach()
  unset(_junction_var)
  return()
endif()

# --------------------------------------------------------------------------------------------
# Configure time: the rules.
include(GNUInstallDirs)

set(JUNCTION_STATE_DIR "/var/lib/junction" CACHE PATH
    "Where an installed server keeps its user store and recordings (systemd's StateDirectory, under /var/lib)")
set(JUNCTION_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE PATH
    "Where junction.service is installed; relative paths are under the install prefix")

# systemd creates StateDirectory= under /var/lib, owned by the service's (dynamic) user, and
# nothing else is writable under ProtectSystem=strict: the state directory must be one of those.
if(NOT JUNCTION_STATE_DIR MATCHES "^/var/lib/([^/].*[^/]|[^/])$")
  message(FATAL_ERROR "JUNCTION_STATE_DIR must be a folder under /var/lib (the unit's StateDirectory=), "
                      "not '${JUNCTION_STATE_DIR}'")
endif()
set(_junction_state_name "${CMAKE_MATCH_1}")

# Fail at configure time, not at install time, when conf/junction.toml changed shape.
junction_installed_config_text("${PROJECT_SOURCE_DIR}/conf/junction.toml" "/check" "/check" _junction_unused)
unset(_junction_unused)

install(TARGETS junction RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/conf/www/ DESTINATION ${CMAKE_INSTALL_DATADIR}/junction/www
        COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/docs/junction.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT man)

# The generated files: this file again, at install time, with what it needs from here.
set(_junction_install_vars "
  set(_junction_source_dir [==[${PROJECT_SOURCE_DIR}]==])
  set(_junction_binary_dir [==[${PROJECT_BINARY_DIR}]==])
  set(_junction_rel_bindir [==[${CMAKE_INSTALL_BINDIR}]==])
  set(_junction_rel_datadir [==[${CMAKE_INSTALL_DATADIR}]==])
  set(_junction_rel_sysconfdir [==[${CMAKE_INSTALL_SYSCONFDIR}]==])
  set(_junction_rel_unitdir [==[${JUNCTION_SYSTEMD_UNIT_DIR}]==])
  set(_junction_state_dir [==[${JUNCTION_STATE_DIR}]==])
  set(_junction_state_name [==[${_junction_state_name}]==])")
install(CODE "${_junction_install_vars}
  set(JUNCTION_INSTALL_STEP config)
  include([==[${CMAKE_CURRENT_LIST_FILE}]==])
  unset(JUNCTION_INSTALL_STEP)" COMPONENT runtime)
install(CODE "${_junction_install_vars}
  set(JUNCTION_INSTALL_STEP unit)
  include([==[${CMAKE_CURRENT_LIST_FILE}]==])
  unset(JUNCTION_INSTALL_STEP)" COMPONENT systemd)
unset(_junction_install_vars)

# `cmake --install`: the public headers, the static libraries, the `synack` tool, a CMake
# package (find_package(synack) -> synack::synack, synack::wire ...), synack.pc and the licence.
include(CMakePackageConfigHelpers)

set(SYNACK_LIBRARIES synack_wire synack_tcp synack_stack synack_posix synack_pkt synack_io synack_runtime)
install(TARGETS ${SYNACK_LIBRARIES} synack_all EXPORT synackTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS synack RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/synack DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# CMake package: relocatable (paths relative to the config file), version checked as 0.x
# releases break compatibility at each minor version.
set(SYNACK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/synack)
install(EXPORT synackTargets NAMESPACE synack:: DESTINATION ${SYNACK_CMAKE_DIR} FILE synackTargets.cmake)
configure_package_config_file(cmake/synackConfig.cmake.in ${PROJECT_BINARY_DIR}/synackConfig.cmake
                              INSTALL_DESTINATION ${SYNACK_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/synackConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/synackConfig.cmake ${PROJECT_BINARY_DIR}/synackConfigVersion.cmake
        DESTINATION ${SYNACK_CMAKE_DIR})

# pkg-config: relocatable too (${pcfiledir}), so `cmake --install --prefix DIR` gives a
# synack.pc that is right in DIR.
file(RELATIVE_PATH SYNACK_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" SYNACK_PC_TO_PREFIX "${SYNACK_PC_TO_PREFIX}")
file(RELATIVE_PATH SYNACK_PC_LIBDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_LIBDIR})
file(RELATIVE_PATH SYNACK_PC_INCLUDEDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_INCLUDEDIR})
# The libraries in link order: each before the ones it uses.
set(SYNACK_PC_LIBS "-lsynack_runtime -lsynack_pkt -lsynack_posix -lsynack_stack -lsynack_tcp -lsynack_io -lsynack_wire")
set(SYNACK_PC_REQUIRES "libpcap")
if(SYNACK_HAVE_URING)
  string(APPEND SYNACK_PC_REQUIRES " liburing")
endif()
configure_file(cmake/synack.pc.in ${PROJECT_BINARY_DIR}/synack.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/synack.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

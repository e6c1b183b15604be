include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(_vllora_targets GLOBAL PROPERTY VLLORA_EXPORTED_TARGETS)
install(TARGETS ${_vllora_targets} EXPORT vllora_telemetryTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vllora DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT vllora_telemetryTargets NAMESPACE vllora::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vllora_telemetry)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/vllora_telemetryConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vllora_telemetryConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vllora_telemetry)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vllora_telemetryConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vllora_telemetryConfig.cmake
  ${PROJECT_BINARY_DIR}/vllora_telemetryConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vllora_telemetry)

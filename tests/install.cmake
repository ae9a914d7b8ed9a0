# Install side (tests/install/): the kustomize manifests, `coco-webhook certs`, the
# certificates with the server, and the Containerfile. Needs kubectl (kustomize), openssl,
# curl and python3-jsonschema / python3-yaml.
coco_script_test(install_manifests /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/install/manifests_test.py)
coco_script_test(install_certs bash ${CMAKE_CURRENT_SOURCE_DIR}/install/certs_test.sh)
coco_script_test(install_certs_serve bash ${CMAKE_CURRENT_SOURCE_DIR}/install/certs_serve_test.sh)
coco_script_test(install_containerfile /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/install/containerfile_test.py)
coco_script_test(install_certs_renew /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/install/certs_renew_test.py)
set_tests_properties(install_manifests install_certs install_certs_serve install_containerfile
                     install_certs_renew
                     PROPERTIES LABELS install TIMEOUT 120)

# The image: built with podman from a local debootstrap base and run as Kubernetes runs it
# (tests/install/image_test.sh). It builds its own release binary inside the image, so a
# sanitizer build of the tree adds nothing to it: it is registered in normal builds only.
# The first run makes the base (debootstrap) and the layers, later runs reuse them.
if(NOT COCO_SANITIZE)
  coco_script_test(install_image bash ${CMAKE_CURRENT_SOURCE_DIR}/install/image_test.sh)
  set_tests_properties(install_image PROPERTIES LABELS "install;image" TIMEOUT 1500)
endif()

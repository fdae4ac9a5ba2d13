# CPack settings for the .deb (included from the top CMakeLists after every install() rule).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME memlong-desktop)
set(CPACK_PACKAGE_VENDOR "MemLong Desktop developers")
set(CPACK_PACKAGE_CONTACT "MemLong Desktop developers <memlong@memlong.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "local assistant that remembers whole books")
set(CPACK_PACKAGE_DESCRIPTION
    "MemLong Desktop reads whole books and long documents (text, Markdown,\n\
HTML, EPUB, PDF, DOCX) into a persistent memory store, answers questions\n\
with citations, summarizes books chapter by chapter and keeps saved memory\n\
sessions, with a local language model and MemLong retrieval memory.\n\
Models are fetched once with memlong-fetch-models.")
# Debian's Description: CPack writes the summary line, then this extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_UNSPECIFIED_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION text)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/memlong/memlong-desktop")
# Depends: computed by dpkg-shlibdeps from the ELF files, never guessed.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The model fetcher needs pip (it only downloads; nothing is installed into Python).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-pip")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "memlong-desktop-cuda")

# Components: everything is in the default one (the main package) except the CUDA module, which
# links the CUDA toolkit's libraries (not Debian packages, so shlibdeps cannot resolve them) and
# is only ever dlopen()ed.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_NAME memlong-desktop)
set(CPACK_DEBIAN_UNSPECIFIED_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_CUDA_PACKAGE_NAME memlong-desktop-cuda)
set(CPACK_DEBIAN_CUDA_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_CUDA_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_CUDA_PACKAGE_DEPENDS "memlong-desktop (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_CUDA_DESCRIPTION
    "The CUDA backend of MemLong Desktop: runs its model on an NVIDIA GPU.\n\
The CUDA runtime and cuBLAS of the CUDA toolkit are needed at run time;\n\
without them the app uses the CPU.")
include(CPack)

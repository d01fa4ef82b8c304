"""Which GPU libraries an environment really loads, from where, and what shadows what (``envkit libs``).

* ``elf``       reads a shared object (pyelftools): SONAME, NEEDED, RPATH/RUNPATH, symbol versions.
* ``families``  the GPU library families and the soname -> package knowledge (``providers``), for
                ``libs``, ``validate`` and the explain/advice helpers.
* ``system``    the machine's loader facts: the ld.so cache (``ldconfig -p``), the default directories
                (``ld.so --help``), dpkg's file lists.
* ``loader``    glibc's rules for finding a NEEDED or dlopen'ed soname, simulated: RPATH chain,
                LD_LIBRARY_PATH, RUNPATH, cache, defaults, objects already loaded (preloading).
* ``scan``      one environment: its library directories, every copy of every family, who owns each
                (conda-meta, pip RECORD, dpkg), the probes a process of the environment makes.
* ``findings``  two majors, shadowing, a major other than the stack's, missing NEEDED, old versions.
* ``live``      the same probes run in the environment's own Python (payload_libs.py, /proc/self/maps).
"""

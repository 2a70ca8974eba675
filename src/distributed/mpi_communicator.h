// The MPI communicator: initialises MPI (MPI_Init_thread, funneled: only the
// main thread calls MPI) unless the process already did, duplicates
// MPI_COMM_WORLD with errors returned instead of fatal, derives the local rank
// from MPI_Comm_split_type(SHARED), and runs every collective non-blocking
// (MPI-3 MPI_Ibarrier, MPI_Ibcast, MPI_Iallgatherv, MPI_Igatherv,
// MPI_Iallreduce) polled under a WaitClock, so none can hang forever.
// Tested by tests/distributed/process_test.cpp with mpirun -np 2 and 3.
#pragma once

#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace sagbench::distributed {

// kConfig error when the binary was built without MPI.
std::unique_ptr<Communicator> make_mpi_communicator();

// The first line of MPI_Get_library_version ("Open MPI v4.1.4, ..."), or
// "none" when built without MPI.
std::string mpi_library_version();

}  // namespace sagbench::distributed

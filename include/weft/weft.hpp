#pragma once
// Everything public in weft.

#include "weft/as_completed.hpp"
#include "weft/errors.hpp"
#include "weft/gather.hpp"
#include "weft/join_handle.hpp"
#include "weft/outcome.hpp"
#include "weft/run.hpp"
#include "weft/runtime.hpp"
#include "weft/sleep.hpp"
#include "weft/spawn.hpp"
#include "weft/task.hpp"
#include "weft/task_group.hpp"
#include "weft/timeout.hpp"
#include "weft/use_task.hpp"
#include "weft/wait.hpp"
#include "weft/yield.hpp"

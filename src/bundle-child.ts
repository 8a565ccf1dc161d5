import { bundleWorkflowCode } from '@temporalio/worker';

// Child process of the worker (see bundleWorkflowsInChild in worker.ts): bundles the workflow code with webpack
// and sends it back over IPC, so webpack's memory leaves with this process instead of staying in the worker.
const { code } = await bundleWorkflowCode({ workflowsPath: process.argv[2] });
process.send!({ code }, () => process.exit(0));

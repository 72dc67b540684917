import { absurd } from './analyst.ts';

const taskID = process.argv[2];
if (!taskID) throw new Error('Usage: node result.ts <task id>');

const snapshot = await absurd.fetchTaskResult(taskID);
if (!snapshot) console.log(`No task ${taskID}.`);
else if (snapshot.state === 'completed') console.log('Report:', snapshot.result);
else if (snapshot.state === 'failed') console.log('Failed:', snapshot.failure);
else console.log(`Still ${snapshot.state}; ask again later.`);
await absurd.close();

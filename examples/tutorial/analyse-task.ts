import { absurd, analyst } from './analyst.ts';

export interface AnalyseParams {
  question: string;
}

absurd.registerTask({ name: 'analyse' }, async (params: AnalyseParams) => {
  const result = await analyst.generate({ prompt: params.question });
  return { report: result.text, steps: result.steps.length };
});

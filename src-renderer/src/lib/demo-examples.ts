// The demo's example document for the Detox page (resources/demo/detox-examples.txt, bundled into the renderer): what
// "detoxify the demo examples" opens, toxic and clean sentences mixed, as the demo models were shown them.

import examples from '../../../resources/demo/detox-examples.txt?raw';

export const demoDetoxExamples: string = examples;

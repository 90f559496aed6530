using AutoGrad;
using AutoGrad.Samples;

// The main job. Later issues grow this into the full sample app; for now it trains two tiny models and prints
// their loss falling.
LinearFit.Run();
TinyMlp.Run();

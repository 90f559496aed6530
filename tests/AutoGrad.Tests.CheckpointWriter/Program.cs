using AutoGrad;
using AutoGrad.IO;
using AutoGrad.Nn;

// Usage: AutoGrad.Tests.CheckpointWriter <path>
// Alternates between two large, recognizable states (every value 1 or every value 2) and saves them to <path>
// forever, printing "saved" after the first complete save, so the parent can kill it in the middle of a write.
string path = args[0];
var states = new[] { 1f, 2f }.Select(v =>
{
    var state = new StateDict();
    for (int i = 0; i < 8; i++)
    {
        state.Add($"layer{i}.weight", Tensor.Full([512, 512], v));
    }
    return state;
}).ToArray();
for (long i = 0; ; i++)
{
    Safetensors.Save(path, states[i % 2]);
    if (i == 0)
    {
        Console.WriteLine("saved");
        Console.Out.Flush();
    }
}

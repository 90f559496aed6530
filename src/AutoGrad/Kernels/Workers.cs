namespace AutoGrad.Kernels;

/// <summary>
/// Runs the parts of one kernel call on the calling thread plus long-lived background workers, one per extra core.
/// A training step has dozens of parallel regions of a few hundred microseconds each: Parallel.For's task machinery
/// cost tens of microseconds and about a kilobyte of allocations per region, this costs a wake-up and nothing else.
/// While one call uses the workers, a call from another thread (or from inside a part) runs its parts on its own
/// thread: every caller partitions its work so that results do not depend on how many threads run it.
/// </summary>
internal static class Workers
{
    private static readonly Lock Gate = new();
    private static readonly List<Worker> Started = [];
    private static Action<int>? s_body;
    private static int s_parts, s_next, s_participants;
    private static Exception? s_failure;
    private static readonly ManualResetEventSlim Done = new(false, spinCount: 2000);

    [ThreadStatic]
    private static bool t_insidePart;

    /// <summary>Calls <paramref name="body"/>(i) for every i in [0, parts) and returns when all have finished.</summary>
    public static void Run(int parts, Action<int> body)
    {
        if (parts <= 1 || t_insidePart || !Gate.TryEnter())
        {
            RunInline(parts, body);
            return;
        }
        try
        {
            int helpers = Math.Min(parts, Parallelism.MaxThreads) - 1;
            while (Started.Count < helpers)
            {
                Started.Add(new Worker());
            }
            s_body = body;
            s_parts = parts;
            s_next = 0;
            s_participants = helpers + 1;
            s_failure = null;
            Done.Reset();
            for (int i = 0; i < helpers; i++)
            {
                Started[i].Wake();
            }
            Work();
            // Every woken helper leaves Work before the next call may change the job, so none can mix two calls.
            Done.Wait();
            s_body = null;
            if (s_failure is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
        finally
        {
            Gate.Exit();
        }
    }

    private static void RunInline(int parts, Action<int> body)
    {
        for (int i = 0; i < parts; i++)
        {
            body(i);
        }
    }

    /// <summary>Takes parts until none are left; the last participant to leave signals the caller.</summary>
    private static void Work()
    {
        var body = s_body!;
        int parts = s_parts;
        t_insidePart = true;
        for (int i = Interlocked.Increment(ref s_next) - 1; i < parts; i = Interlocked.Increment(ref s_next) - 1)
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_failure, e, null);
            }
        }
        t_insidePart = false;
        if (Interlocked.Decrement(ref s_participants) == 0)
        {
            Done.Set();
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);

        public Worker()
        {
            new Thread(Loop) { IsBackground = true, Name = "AutoGrad worker" }.Start();
        }

        public void Wake() => _wake.Release();

        private void Loop()
        {
            while (true)
            {
                _wake.Wait();
                Work();
            }
        }
    }
}

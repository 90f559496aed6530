using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace AutoGrad.Nn;

/// <summary>
/// Marks a field (or, with <c>[field: Unregistered]</c>, an auto-property) that deliberately holds a Module or a
/// Parameter that is not part of this module (a reference to a model trained elsewhere, say), so the check for a
/// forgotten RegisterModule / RegisterParameter leaves it alone.
/// </summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class UnregisteredAttribute : Attribute
{
}

/// <summary>The reflection behind Module's registration check: which fields to look at, per type, found once.</summary>
internal static class Registration
{
    private static readonly ConcurrentDictionary<Type, FieldInfo[]> FieldsByType = new();

    /// <summary>The instance fields of <paramref name="type"/> and its bases below Module that can hold a Module or a Parameter.</summary>
    public static FieldInfo[] Fields(Type type) => FieldsByType.GetOrAdd(type, static t =>
    {
        var fields = new List<FieldInfo>();
        for (var current = t; current is not null && current != typeof(Module); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (CanHoldMembers(field.FieldType) && !field.IsDefined(typeof(UnregisteredAttribute)))
                {
                    fields.Add(field);
                }
            }
        }
        return [.. fields];
    });

    /// <summary>The Modules and Parameters a field's value holds: itself, or the elements of an array or list of them.</summary>
    public static IEnumerable<object> Members(object? value)
    {
        if (value is Module or Parameter)
        {
            yield return value;
        }
        else if (value is IEnumerable items and not string)
        {
            foreach (var item in items)
            {
                if (item is Module or Parameter)
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>The field's name as the user wrote it (an auto-property's, not its backing field's).</summary>
    public static string Name(FieldInfo field)
        => field.Name.StartsWith('<') && field.Name.IndexOf('>') is > 1 and var end ? field.Name[1..end] : field.Name;

    private static bool CanHoldMembers(Type type)
    {
        if (typeof(Module).IsAssignableFrom(type) || typeof(Parameter).IsAssignableFrom(type))
        {
            return true;
        }
        if (type.IsArray)
        {
            return CanHoldMembers(type.GetElementType()!);
        }
        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type)
            && type.GetGenericArguments().Any(a => typeof(Module).IsAssignableFrom(a) || typeof(Parameter).IsAssignableFrom(a));
    }
}

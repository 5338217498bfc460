//! Comparisons, boolean logic and Where.

mod bit_shift;
mod bitwise;
pub(crate) mod r#where;

use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, Zip};
use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST, NUMERIC};
use crate::util::{binary, broadcast_all, dims};

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A broadcasting comparison with a bool output.
struct Compare(Cmp);

fn compare<T: ort_core::Element + Copy + PartialOrd>(
    ctx: &Ctx<'_>,
    a: &Tensor,
    b: &Tensor,
    op: Cmp,
) -> Result<Tensor, Error> {
    match op {
        Cmp::Eq => binary(ctx, a, b, |x: T, y: T| x == y),
        Cmp::Gt => binary(ctx, a, b, |x: T, y: T| x > y),
        Cmp::Ge => binary(ctx, a, b, |x: T, y: T| x >= y),
        Cmp::Lt => binary(ctx, a, b, |x: T, y: T| x < y),
        Cmp::Le => binary(ctx, a, b, |x: T, y: T| x <= y),
    }
}

impl Kernel for Compare {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        one(match (a.elem(), self.0) {
            (ElemType::String, Cmp::Eq) => string_equal(a, b),
            (e, op) => crate::dispatch_pod!(e, T => compare::<T>(ctx, a, b, op)),
        }?)
    }
}

fn string_equal(a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    use ort_core::abi::RString;
    let shape = broadcast_all(&[a.shape(), b.shape()])?;
    let d = dims(&shape);
    let bad = |e: ndarray::ShapeError| Error::invalid(e.to_string());
    let av =
        ArrayViewD::from_shape(IxDyn(&dims(a.shape())), a.as_slice::<RString>()?).map_err(bad)?;
    let bv =
        ArrayViewD::from_shape(IxDyn(&dims(b.shape())), b.as_slice::<RString>()?).map_err(bad)?;
    let (av, bv) = (
        av.broadcast(IxDyn(&d)).unwrap(),
        bv.broadcast(IxDyn(&d)).unwrap(),
    );
    let mut out = vec![false; d.iter().product()];
    let mut o = ArrayViewMutD::from_shape(IxDyn(&d), &mut out).map_err(bad)?;
    Zip::from(&mut o)
        .and(&av)
        .and(&bv)
        .for_each(|o, x, y| *o = x == y);
    Tensor::from_vec(&shape, out)
}

/// A boolean kernel: `f` on one input, or on two with broadcasting.
struct Logic {
    f: fn(bool, bool) -> bool,
    unary: bool,
}

impl Kernel for Logic {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let f = self.f;
        let a = input(inputs, 0)?;
        one(if self.unary {
            crate::util::unary(ctx, a, move |x: bool| f(x, false))
        } else {
            binary(ctx, a, input(inputs, 1)?, f)
        }?)
    }
}

crate::register!("Equal", [7, LATEST], ANY, same: [0, 1], |_| Ok(Box::new(Compare(Cmp::Eq))));
crate::register!("Greater", [7, LATEST], NUMERIC, same: [0, 1], |_| Ok(Box::new(Compare(Cmp::Gt))));
crate::register!("GreaterOrEqual", [12, LATEST], NUMERIC, same: [0, 1], |_| Ok(Box::new(Compare(Cmp::Ge))));
crate::register!("Less", [7, LATEST], NUMERIC, same: [0, 1], |_| Ok(Box::new(Compare(Cmp::Lt))));
crate::register!("LessOrEqual", [12, LATEST], NUMERIC, same: [0, 1], |_| Ok(Box::new(Compare(Cmp::Le))));

const BOOL: &[ElemType] = &[ElemType::Bool];
crate::register!("And", [7, LATEST], BOOL, |_| Ok(Box::new(Logic {
    f: |a, b| a && b,
    unary: false
})));
crate::register!("Or", [7, LATEST], BOOL, |_| Ok(Box::new(Logic {
    f: |a, b| a || b,
    unary: false
})));
crate::register!("Xor", [7, LATEST], BOOL, |_| Ok(Box::new(Logic {
    f: |a, b| a ^ b,
    unary: false
})));
crate::register!("Not", [1, LATEST], BOOL, |_| Ok(Box::new(Logic {
    f: |a, _| !a,
    unary: true
})));

#[cfg(test)]
mod tests {
    use ort_core::abi::RString;
    use ort_core::{Element, Tensor, Value};

    use crate::testing::{f32s, i64s, out_f32, run_node};

    fn t<T: Element>(shape: &[i64], d: Vec<T>) -> Option<Value> {
        Some(Value::Tensor(Tensor::from_vec(shape, d).unwrap()))
    }
    fn out<T: Element>(o: &[Option<Value>]) -> (Vec<i64>, Vec<T>) {
        let t = o[0].as_ref().unwrap().as_tensor().unwrap();
        (t.shape().to_vec(), t.to_vec().unwrap())
    }
    fn strs(v: &[&str]) -> Vec<RString> {
        v.iter().map(|&s| RString::from(s)).collect()
    }

    #[test]
    fn comparisons_broadcast() {
        let ins = [i64s(&[2, 2], &[1, 2, 3, 4]), i64s(&[2], &[2, 2])];
        let o = |op| out::<bool>(&run_node(op, 16, &ins, vec![], 1).unwrap());
        assert_eq!(o("Greater"), (vec![2, 2], vec![false, false, true, true]));
        assert_eq!(o("GreaterOrEqual").1, [false, true, true, true]);
        assert_eq!(o("Less").1, [true, false, false, false]);
        assert_eq!(o("LessOrEqual").1, [true, true, false, false]);
        assert_eq!(o("Equal").1, [false, true, false, false]);
        let s = [t(&[3], strs(&["a", "b", "c"])), t(&[1], strs(&["b"]))];
        assert_eq!(
            out::<bool>(&run_node("Equal", 19, &s, vec![], 1).unwrap()).1,
            [false, true, false]
        );
    }

    #[test]
    fn boolean_logic() {
        let ins = [
            t(&[4], vec![true, true, false, false]),
            t(&[4], vec![true, false, true, false]),
        ];
        let o = |op| out::<bool>(&run_node(op, 7, &ins, vec![], 1).unwrap()).1;
        assert_eq!(o("And"), [true, false, false, false]);
        assert_eq!(o("Or"), [true, true, true, false]);
        assert_eq!(o("Xor"), [false, true, true, false]);
        assert_eq!(
            out::<bool>(&run_node("Not", 1, &ins[..1], vec![], 1).unwrap()).1,
            [false, false, true, true]
        );
    }

    #[test]
    fn where_broadcasts_three_ways_for_any_type() {
        let c = t(&[2, 1], vec![true, false]);
        let o = run_node(
            "Where",
            16,
            &[c.clone(), f32s(&[3], &[1., 2., 3.]), f32s(&[], &[9.])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0), (vec![2, 3], vec![1., 2., 3., 9., 9., 9.]));
        let o = run_node(
            "Where",
            16,
            &[c, t(&[1], strs(&["x"])), t(&[2], strs(&["p", "q"]))],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(
            out::<RString>(&o),
            (vec![2, 2], strs(&["x", "x", "p", "q"]))
        );
    }
}

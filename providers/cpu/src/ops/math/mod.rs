//! Elementwise arithmetic and math functions.

mod abs;
mod arith;
mod bit_cast;
mod cast;
mod cast_like;
mod clip;
pub(crate) mod convert;
mod cum_prod;
mod cum_sum;
mod det;
mod div;
mod einsum;
mod erf;
mod float_maps;
mod is_inf;
mod is_nan;
mod modulo;
mod neg;
mod pow;
mod prelu;
mod relu;
mod shrink;
mod sign;
mod swiglu;
mod variadic;

#[cfg(test)]
mod tests {
    use ort_core::abi::{AttrValue, RString};
    use ort_core::{Element, Tensor, Value};

    use crate::testing::{assert_close, attr, f32s, i64s, out_f32, run_node};

    fn t<T: Element>(shape: &[i64], d: Vec<T>) -> Option<Value> {
        Some(Value::Tensor(Tensor::from_vec(shape, d).unwrap()))
    }
    fn out<T: Element>(o: &[Option<Value>], i: usize) -> (Vec<i64>, Vec<T>) {
        let t = o[i].as_ref().unwrap().as_tensor().unwrap();
        (t.shape().to_vec(), t.to_vec().unwrap())
    }
    fn unary(
        op: &str,
        opset: i64,
        x: &[f32],
        attrs: Vec<ort_core::abi::Attribute<'static>>,
    ) -> Vec<f32> {
        out_f32(
            &run_node(op, opset, &[f32s(&[x.len() as i64], x)], attrs, 1).unwrap(),
            0,
        )
        .1
    }

    const X: [f32; 5] = [-2.0, -0.5, 0.0, 0.5, 3.0];

    #[test]
    fn float_functions_match_numpy() {
        let cases: [(&str, [f32; 5]); 7] = [
            (
                "Erf",
                [-0.995_322_3, -0.520_499_9, 0.0, 0.520_499_9, 0.999_977_9],
            ),
            (
                "Selu",
                [-1.520_166_5, -0.691_758_2, 0.0, 0.525_350_5, 3.152_103],
            ),
            ("Elu", [-0.864_664_7, -0.393_469_33, 0.0, 0.5, 3.0]),
            ("HardSigmoid", [0.1, 0.4, 0.5, 0.6, 1.0]),
            (
                "HardSwish",
                [-0.333_333_3, -0.208_333_33, 0.0, 0.291_666_66, 3.0],
            ),
            (
                "Softplus",
                [
                    0.126_928,
                    0.474_077,
                    std::f32::consts::LN_2,
                    0.974_077,
                    3.048_587_3,
                ],
            ),
            (
                "Sigmoid",
                [0.119_202_93, 0.377_540_68, 0.5, 0.622_459_3, 0.952_574_1],
            ),
        ];
        for (op, want) in cases {
            assert_close(&unary(op, 14, &X, vec![]), &want, 1e-6);
        }
        let leaky = unary(
            "LeakyRelu",
            16,
            &X,
            vec![attr("alpha", AttrValue::Float(0.1))],
        );
        assert_close(&leaky, &[-0.2, -0.05, 0.0, 0.5, 3.0], 1e-7);
        assert_eq!(
            unary("Round", 11, &[0.5, 1.5, 2.5, -0.5, -1.5, 2.6], vec![]),
            [0.0, 2.0, 2.0, -0.0, -2.0, 3.0]
        );
    }

    #[test]
    fn arithmetic_broadcasts_and_integer_division_truncates() {
        let o = run_node(
            "Sub",
            14,
            &[f32s(&[2, 2], &[1., 2., 3., 4.]), f32s(&[2], &[10., 20.])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0), (vec![2, 2], vec![-9., -18., -7., -16.]));
        let o = run_node(
            "Div",
            14,
            &[
                t(&[3], vec![7i32, -7, i32::MIN]),
                t(&[3], vec![2i32, 2, -1]),
            ],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out::<i32>(&o, 0).1, [3, -3, i32::MIN]);
        let o = run_node(
            "Div",
            14,
            &[t(&[1], vec![u64::MAX]), t(&[1], vec![2u64])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out::<u64>(&o, 0).1, [u64::MAX / 2]);
        assert!(run_node(
            "Div",
            14,
            &[i64s(&[2], &[1, 2]), i64s(&[1], &[0])],
            vec![],
            1
        )
        .is_err());
        let o = run_node(
            "Pow",
            15,
            &[f32s(&[3], &[2., 3., 4.]), i64s(&[], &[2])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).1, [4., 9., 16.]);
        let o = run_node(
            "Pow",
            15,
            &[i64s(&[3], &[2, 3, -2]), i64s(&[3], &[3, 39, -1])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out::<i64>(&o, 0).1, [8, 3i64.pow(39), 0]);
    }

    #[test]
    fn clip_reads_attributes_or_inputs() {
        let a = vec![
            attr("min", AttrValue::Float(-1.0)),
            attr("max", AttrValue::Float(1.0)),
        ];
        assert_eq!(unary("Clip", 6, &X, a), [-1.0, -0.5, 0.0, 0.5, 1.0]);
        let o = run_node(
            "Clip",
            13,
            &[f32s(&[5], &X), None, f32s(&[], &[0.25])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).1, [-2.0, -0.5, 0.0, 0.25, 0.25]);
        let o = run_node(
            "Clip",
            13,
            &[i64s(&[3], &[-5, 5, 50]), i64s(&[], &[0]), i64s(&[], &[10])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out::<i64>(&o, 0).1, [0, 5, 10]);
    }

    #[test]
    fn variadic_ops_broadcast() {
        let ins = [
            f32s(&[2, 1], &[1., 5.]),
            f32s(&[3], &[2., 4., 6.]),
            f32s(&[], &[3.]),
        ];
        let o = |op| out_f32(&run_node(op, 13, &ins, vec![], 1).unwrap(), 0);
        assert_eq!(o("Max"), (vec![2, 3], vec![3., 4., 6., 5., 5., 6.]));
        assert_eq!(o("Min").1, [1., 1., 1., 2., 3., 3.]);
        assert_eq!(o("Sum").1, [6., 8., 10., 10., 12., 14.]);
        assert_close(
            &o("Mean").1,
            &[2., 8. / 3., 10. / 3., 10. / 3., 4., 14. / 3.],
            1e-6,
        );
    }

    #[test]
    fn cast_between_numbers_and_strings() {
        let cast = |x: Option<Value>, to: i64| {
            run_node("Cast", 21, &[x], vec![attr("to", AttrValue::Int(to))], 1).unwrap()
        };
        let o = cast(f32s(&[4], &[-1.7, 2.9, 300.5, 1.0]), 3);
        assert_eq!(out::<i8>(&o, 0).1, [-1, 2, 44, 1]);
        let o = cast(
            f32s(&[6], &[0.1, 1. / 3., 2.5e-5, 1e10, -7.0, f32::NEG_INFINITY]),
            8,
        );
        let s: Vec<String> = out::<RString>(&o, 0)
            .1
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            s,
            ["0.1", "0.33333334", "2.4999999e-05", "1e+10", "-7", "-INF"]
        );
        let strs = ["1.5", " -2 ", "NaN", "1e3"].map(RString::from).to_vec();
        let f = out::<f32>(&cast(t(&[4], strs), 1), 0).1;
        assert_eq!((f[0], f[1], f[3]), (1.5, -2.0, 1000.0));
        assert!(f[2].is_nan());
        assert_eq!(
            out::<bool>(&cast(f32s(&[3], &[0.0, -0.5, f32::NAN]), 9), 0).1,
            [false, true, true]
        );
        assert_eq!(
            out::<f64>(&cast(t(&[2], vec![true, false]), 11), 0).1,
            [1.0, 0.0]
        );
        assert!(run_node(
            "Cast",
            21,
            &[f32s(&[1], &[1.0])],
            vec![attr("to", AttrValue::Int(14))],
            1
        )
        .is_err());
        let o = run_node(
            "CastLike",
            15,
            &[f32s(&[2], &[2.5, -3.5]), i64s(&[0], &[])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out::<i64>(&o, 0).1, [2, -3]);
    }
}
